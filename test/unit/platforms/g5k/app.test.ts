/**
 * `setup` and `killjob` (src/app) on the g5k platform against the API double, where what the app
 * does around the platform matters: the rollback of a failed first setup, a lost state folder, a
 * wrong password, the dry run's inventory.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { killjob } from '../../../../src/app/killjob.js';
import { setup, setupDryRun } from '../../../../src/app/setup.js';
import type { PlatformError } from '../../../../src/core/errors.js';
import { startDouble } from '../../../support/g5k-double/index.js';
import type { G5kDouble } from '../../../support/g5k-double/index.js';
import { PASSWORD, pubKey, tmp, USER } from './helpers.js';

const ENV = ['GREENRACE_HOME', 'GREENRACE_STATE_DIR', 'GRID5000_USERNAME', 'GRID5000_PASSWORD', 'GREENRACE_G5K_INSIDE', 'GREENRACE_G5K_CREDENTIALS', 'GREENRACE_G5K_TIME_SCALE'] as const;

describe('setup and killjob on g5k (app layer, API double)', () => {
  let d: G5kDouble;
  let home: string;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    for (const k of ENV) saved[k] = process.env[k];
    d = await startDouble({ users: { [USER]: PASSWORD, bob: 'bobpw' } });
  });
  afterAll(async () => {
    await d.stop();
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  beforeEach(() => {
    home = tmp('g5k-app-');
    mkdirSync(join(home, 'experiments'));
    process.env.GREENRACE_HOME = home;
    delete process.env.GREENRACE_STATE_DIR;
    delete process.env.GREENRACE_G5K_CREDENTIALS;
    delete process.env.GREENRACE_G5K_TIME_SCALE;
    process.env.GRID5000_USERNAME = USER;
    process.env.GRID5000_PASSWORD = PASSWORD;
    process.env.GREENRACE_G5K_INSIDE = '0';
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const write = (name: string, g5k: Record<string, unknown> = {}): void => {
    const lines = Object.entries({ cluster: 'paravance', api_url: d.url, public_key: pubKey(home), ...g5k }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
    writeFileSync(join(home, 'experiments', `${name}.yaml`), `roles: { control: 1, broker: 0, worker: 0 }\nplatform:\n  kind: g5k\n  g5k:\n${lines.join('\n')}\n`);
  };
  const live = (uid: number): boolean => ['waiting', 'hold', 'launching', 'running'].includes(d.jobState(d.jobs.find((j) => j.uid === uid)!));

  it('1. a failed first setup (two live jobs of that name) deletes neither, leaves no state, names both', async () => {
    write('dupapp');
    const a = d.seedJob({ site: 'rennes', name: 'greenrace-dupapp', user: USER, cluster: 'paravance' });
    const b = d.seedJob({ site: 'rennes', name: 'greenrace-dupapp', user: USER, cluster: 'paravance' });
    const lines: string[] = [];
    const err = (await setup({ exp: 'dupapp', progress: (l) => lines.push(l) }).catch((e: unknown) => e)) as PlatformError;
    expect(err.code).toBe('g5k.job.duplicate');
    expect(err.message).toContain(String(a));
    expect(err.message).toContain(String(b));
    expect([live(a), live(b)]).toEqual([true, true]);
    expect(d.count('DELETE /sites/{site}/jobs/{id}')).toBe(0);
    expect(existsSync(join(home, '.greenrace', 'dupapp'))).toBe(false);
    expect(lines.join('\n')).not.toMatch(/could not undo/);
    for (const u of [a, b]) d.jobs.find((j) => j.uid === u)!.killed_at = d.clock.now();
  });

  it("2. killjob after the state folder is lost finds the user's live job by name, says which, deletes it; another user's is untouched", async () => {
    write('lostapp');
    const mine = d.seedJob({ site: 'rennes', name: 'greenrace-lostapp', user: USER, cluster: 'paravance' });
    const bobs = d.seedJob({ site: 'rennes', name: 'greenrace-lostapp', user: 'bob', cluster: 'paravance' });
    expect(existsSync(join(home, '.greenrace', 'lostapp'))).toBe(false);
    const lines: string[] = [];
    const r = await killjob('lostapp', { progress: (l) => lines.push(l) });
    expect(r.didSomething).toBe(true);
    expect(lines).toContain(`g5k: found job ${mine} (running) of ${USER} named greenrace-lostapp at rennes; deleting it`);
    expect(lines).toContain(`g5k: deleted job ${mine} at rennes`);
    expect(live(mine)).toBe(false);
    expect(live(bobs)).toBe(true);
    expect(existsSync(join(home, '.greenrace', 'lostapp'))).toBe(false);
    d.jobs.find((j) => j.uid === bobs)!.killed_at = d.clock.now();
    // and with nothing left, a second killjob finds nothing and says so
    const again: string[] = [];
    await killjob('lostapp', { progress: (l) => again.push(l) });
    expect(again).toContain(`g5k: no live job of ${USER} named greenrace-lostapp at rennes`);
  });

  it('8. a wrong password: one clear error, no "could not undo", nothing reserved, no state folder left', async () => {
    write('badpw', { deploy: false });
    process.env.GRID5000_PASSWORD = 'not-' + PASSWORD;
    const jobs = d.jobs.length;
    const lines: string[] = [];
    const err = (await setup({ exp: 'badpw', progress: (l) => lines.push(l) }).catch((e: unknown) => e)) as PlatformError;
    expect(err.code).toBe('g5k.api.unauthorized');
    expect(err.message).toMatch(/refused the credentials \(401, user alice\)/);
    expect(lines.join('\n')).not.toMatch(/could not undo|run killjob/);
    expect(d.jobs.length).toBe(jobs);
    expect(existsSync(join(home, '.greenrace', 'badpw'))).toBe(false);
    expect(JSON.stringify(err) + err.message + lines.join('\n')).not.toContain(PASSWORD);
  });

  it("12. the dry run's inventory says gr_shared_fs: true when the file sets shared_filesystem", async () => {
    write('sharedfs', { shared_filesystem: true, address_map: { 'paravance-1': '10.9.9.11' } });
    const calls = d.count();
    const r = await setupDryRun({ exp: 'sharedfs' });
    expect(r.inventoryYaml).toMatch(/gr_shared_fs: true/);
    expect(d.count()).toBe(calls);
  });
});
