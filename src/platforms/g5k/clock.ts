import { UsageError } from '../../core/errors.js';

/** Time as the reservation and deployment loops see it; tests drive it from the API double's clock. */
export interface Clock {
  /** Epoch seconds. */
  now(): number;
  sleep(seconds: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now() / 1000,
  sleep: (seconds, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, seconds * 1000);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export function formatEpoch(t: number): string {
  return new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function formatSpan(s: number): string {
  s = Math.max(0, Math.round(s));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * A clock for talking to the API double with its clock sped up: `GREENRACE_G5K_TIME_SCALE=N` means
 * the API's time runs N times faster than this machine's, so every poll, wait and deadline of the
 * reservation, deployment and SSH loops shrinks by N (now() runs N times faster from the moment the
 * clock is made). Unset (or 1), the real clock. Never set it against the real Grid'5000.
 */
export function scaledClock(scale: number, base: Clock = realClock): Clock {
  if (!(scale > 0) || scale === 1) return base;
  const t0 = base.now();
  return {
    now: () => t0 + (base.now() - t0) * scale,
    sleep: (seconds, signal) => base.sleep(seconds / scale, signal),
  };
}

export const TIME_SCALE_ENV = 'GREENRACE_G5K_TIME_SCALE';

export function clockFromEnv(env: NodeJS.ProcessEnv = process.env): Clock {
  const raw = env[TIME_SCALE_ENV];
  if (raw === undefined || raw === '') return realClock;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 10_000)
    throw new UsageError('g5k.time_scale', `${TIME_SCALE_ENV}=${raw}: expected a number above 0 and at most 10000 (only for the API double)`);
  return scaledClock(n);
}
