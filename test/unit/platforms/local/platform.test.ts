import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { experimentSchema } from '../../../../src/experiment/schema.js';
import type { Platform } from '../../../../src/platforms/platform.js';

const dir = mkdtempSync(join(tmpdir(), 'plt-unit-'));
const registry = join(dir, 'registry');
let local: Platform;

beforeAll(async () => {
  process.env.GREENRACE_LOCAL_REGISTRY = registry;
  local = await (await import('../../../../src/platforms/index.js')).platformFor('local');
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  delete process.env.GREENRACE_LOCAL_REGISTRY;
  rmSync(dir, { recursive: true, force: true });
});

const exp = (name: string, extra: Record<string, unknown> = {}) =>
  experimentSchema.parse({ name, platform: { kind: 'local', ...extra }, roles: { control: 1, broker: 1, worker: 3 } });

describe('local platform without root', () => {
  it('refuses to reserve with one clear error, before touching anything', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    const stateDir = join(dir, 'state-nonroot');
    const e = exp('pltnonroot');
    const err = await local.reserve({ experiment: e, roles: e.roles, stateDir }).catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'platform.local.not_root', exitCode: 3 });
    expect((err as Error).message).toMatch(/needs root to create hosts .* use platform\.kind: static/);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(registry)).toBe(false);
  });

  it('still shows the plan as a normal user, saying setup would need root, and claims nothing', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    const e = exp('pltnonroot', { local: { subnet: '10.99.7.0/24' } });
    const plan = await local.plan({ experiment: e, roles: e.roles, stateDir: join(dir, 'state-plan') });
    expect(plan.lines[0]).toMatch(/5 hosts as network namespaces on this machine .*needs root/);
    expect(plan.lines.join('\n')).toContain('10.99.7.1/24 = controller address');
    expect(plan.hosts.map((h) => `${h.name}=${h.address}`)).toEqual([
      'control-1=10.99.7.11',
      'broker-1=10.99.7.12',
      'worker-1=10.99.7.13',
      'worker-2=10.99.7.14',
      'worker-3=10.99.7.15',
    ]);
    // every namespace host runs on this machine: one machine for all of them
    expect(new Set(plan.hosts.map((h) => h.machine))).toEqual(new Set([hostname()]));
    expect(plan.sharedFilesystem).toBe(true);
    expect(existsSync(join(dir, 'state-plan'))).toBe(false);
    expect(existsSync(registry) ? readdirSync(registry) : []).toEqual([]);
  });

  it('releases a state dir that never had anything without error and without root', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    const lines: string[] = [];
    await local.release(join(dir, 'state-empty'), undefined, (l) => lines.push(l));
    expect(lines).toEqual(['local: nothing to release']);
  });

  it('rejects a subnet override that is not a /24 in 10.0.0.0/8', async () => {
    const e = exp('pltbadnet', { local: { subnet: '10.300.1.0/24' } });
    await expect(local.plan({ experiment: e, roles: e.roles, stateDir: join(dir, 's') })).rejects.toMatchObject({ code: 'platform.local.bad_subnet' });
  });
});
