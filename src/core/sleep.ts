/**
 * Sleep `ms`; an abort ends it with `interrupted()` (rejected). The abort listener goes with the
 * timer, so a loop of short sleeps does not pile listeners up on one signal.
 */
export function sleep(ms: number, signal: AbortSignal | undefined, interrupted: () => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(interrupted());
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
