import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { experimentSchema } from '../../../../src/experiment/schema.js';
import type { Experiment } from '../../../../src/experiment/schema.js';
import { G5kApi } from '../../../../src/platforms/g5k/api.js';
import type { Clock } from '../../../../src/platforms/g5k/clock.js';
import { Secret } from '../../../../src/platforms/g5k/credentials.js';
import { G5kPlatform } from '../../../../src/platforms/g5k/platform.js';
import type { G5kDouble } from '../../../support/g5k-double/index.js';
import { startDouble, steppedClock } from '../../../support/g5k-double/index.js';

export const USER = 'alice';
export const PASSWORD = 'pw-Zq8!never-print-me';

export function experiment(g5k: Record<string, unknown>, roles = { control: 1, broker: 3, worker: 2 }, name = 'kafka3'): Experiment {
  return experimentSchema.parse({ name, roles, platform: { kind: 'g5k', g5k } });
}

const made: string[] = [];
// Temporary folders (credentials, keys, state) go after each test file (the module is loaded per file).
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tmp(prefix = 'g5k-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function pubKey(dir: string): string {
  const p = join(dir, 'id_test.pub');
  writeFileSync(p, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheDouble test@greenrace\n');
  return p;
}

export function api(d: G5kDouble, log?: (l: string) => void, timeoutMs = 2000): G5kApi {
  return new G5kApi({
    baseUrl: d.url,
    credentials: { username: USER, password: new Secret(PASSWORD), origin: 'test' },
    timeoutMs,
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
    ...(log ? { log } : {}),
  });
}

/** A platform wired to the double: stepped clock, no SSH (deployed probe and SSH check injected). */
export function platform(d: G5kDouble, log: string[], opts: { deployed?: Set<string>; clock?: Clock } = {}): G5kPlatform {
  return new G5kPlatform({
    api: () => api(d, (l) => log.push(l)),
    clock: opts.clock ?? steppedClock(d),
    inside: false,
    isDeployed: async (t) => opts.deployed?.has(t.address) ?? false,
    sshCheck: async () => true,
  });
}

/**
 * A double for the whole test file (users alice and bob), started before its tests and stopped after;
 * `log` collects the platform's lines, and no test may leave the password in it.
 */
export function doubleForFile(): { d: G5kDouble; log: string[] } {
  const t = { d: undefined as unknown as G5kDouble, log: [] as string[] };
  beforeAll(async () => {
    t.d = await startDouble({ users: { [USER]: PASSWORD, bob: 'bobpw' } });
  });
  afterAll(() => t.d.stop());
  afterEach(() => expect(t.log.join('\n')).not.toContain(PASSWORD));
  return t;
}
