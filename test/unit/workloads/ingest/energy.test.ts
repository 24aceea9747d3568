/**
 * The energy step of `ingest` (accountIngestEnergy in src/app/ingest.ts) goes through the same
 * energy context as `baseline`: on a set-up g5k experiment it asks Kwollect (the g5k double here)
 * for the nodes named by their g5k_fqdn attribute, and reports the double's exact integral.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIngestEnergy } from '../../../../src/app/ingest.js';
import { writeState } from '../../../../src/app/state.js';
import type { Experiment } from '../../../../src/experiment/schema.js';
import type { PlatformHandle } from '../../../../src/platforms/platform.js';
import { startDouble, type G5kDouble } from '../../../support/g5k-double/index.js';
import { experiment, PASSWORD, platform, pubKey, tmp, USER } from '../../platforms/g5k/helpers.js';

const EXP = 'ingenergy';
const ENV_KEYS = ['GREENRACE_STATE_DIR', 'GRID5000_USERNAME', 'GRID5000_PASSWORD', 'GREENRACE_G5K_INSIDE', 'GREENRACE_G5K_CREDENTIALS'] as const;

describe('ingest energy on a g5k experiment', () => {
  let d: G5kDouble;
  let dir: string;
  let handle: PlatformHandle;
  let exp: Experiment;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const k of ENV_KEYS) saved[k] = process.env[k];
    d = await startDouble({ users: { [USER]: PASSWORD } });
    dir = tmp('ing-energy-');
    process.env.GREENRACE_STATE_DIR = join(dir, 'state');
    process.env.GRID5000_USERNAME = USER;
    process.env.GRID5000_PASSWORD = PASSWORD;
    process.env.GREENRACE_G5K_INSIDE = '0';
    delete process.env.GREENRACE_G5K_CREDENTIALS;
    // Broker and control on gros (wattmetres), workers on paravance (BMC): one ingest cluster, two sites.
    exp = experiment(
      { cluster: 'gros', roles: { worker: { cluster: 'paravance' } }, api_url: d.url, public_key: pubKey(dir), jump: 'never', user: USER },
      { control: 1, broker: 1, worker: 2 },
      EXP,
    );
    const stateDir = join(dir, 'state', EXP);
    handle = await platform(d, []).reserve({ experiment: exp, roles: exp.roles, stateDir });
    const now = new Date().toISOString();
    writeState(stateDir, {
      version: 1,
      experiment: EXP,
      phase: 'ready',
      platformKind: 'g5k',
      platform: handle,
      experimentSnapshot: exp,
      files: [],
      services: ['kafka'],
      // Nobody listens there: the Prometheus sources fail, so only Kwollect can answer.
      endpoints: { prometheus_url: 'http://127.0.0.1:9' },
      createdAt: now,
      updatedAt: now,
    });
    d.clock.advance(3600);
  });

  afterAll(async () => {
    await d?.stop();
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks the Kwollect source for every host by its g5k_fqdn and reports its integral', async () => {
    const end = Math.floor(d.clock.now()) - 600;
    const window = { start: end - 120, end };
    const acc = await accountIngestEnergy(exp, window);
    expect(d.count('GET /sites/{site}/metrics')).toBeGreaterThan(0);
    expect(acc.hosts.map((h) => h.host)).toEqual(handle.hosts.map((h) => h.name));
    expect(acc.hosts.map((h) => h.source)).toEqual([
      'kwollect:wattmetre_power_watt',
      'kwollect:wattmetre_power_watt',
      'kwollect:bmc_node_power_watt',
      'kwollect:bmc_node_power_watt',
    ]);
    let exact = 0;
    for (const [i, h] of acc.hosts.entries()) {
      const metric = h.source!.slice('kwollect:'.length);
      exact += d.energy(String(handle.hosts[i]!.vars?.g5k_fqdn), metric, window.start, window.end);
    }
    expect(Math.abs(acc.totalJoules! - exact) / exact).toBeLessThan(0.005);
  });

  it('the run\'s own energy.sources decide: without kwollect, Kwollect is not asked', async () => {
    const before = d.count('GET /sites/{site}/metrics');
    const end = Math.floor(d.clock.now()) - 600;
    const acc = await accountIngestEnergy({ ...exp, energy: { ...exp.energy, sources: ['model'] } }, { start: end - 60, end });
    expect(d.count('GET /sites/{site}/metrics')).toBe(before);
    expect(acc.totalJoules).toBeNull();
  });
});
