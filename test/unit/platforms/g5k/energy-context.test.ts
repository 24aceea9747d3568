/**
 * Kwollect energy of a g5k experiment through the app's energy context (what `baseline` and the
 * shell's energy helper use): the hosts carry their g5k_fqdn, the source talks to the API URL the
 * platform recorded with the user's credentials, and the account reports the double's exact integral.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { energyContext } from '../../../../src/app/baseline.js';
import { writeState } from '../../../../src/app/state.js';
import { energyAccount } from '../../../../src/metrics/energy/index.js';
import type { PlatformHandle } from '../../../../src/platforms/platform.js';
import { startDouble } from '../../../support/g5k-double/index.js';
import type { G5kDouble } from '../../../support/g5k-double/index.js';
import { experiment, PASSWORD, platform, pubKey, tmp, USER } from './helpers.js';

const EXP = 'g5kenergy';
const ENV_KEYS = ['GREENRACE_STATE_DIR', 'GRID5000_USERNAME', 'GRID5000_PASSWORD', 'GREENRACE_G5K_INSIDE', 'GREENRACE_G5K_CREDENTIALS'] as const;

describe('Kwollect through the energy context of a set-up g5k experiment', () => {
  let d: G5kDouble;
  let dir: string;
  let handle: PlatformHandle;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const k of ENV_KEYS) saved[k] = process.env[k];
    d = await startDouble({ users: { [USER]: PASSWORD } });
    dir = tmp('g5k-energy-');
    process.env.GREENRACE_STATE_DIR = join(dir, 'state');
    process.env.GRID5000_USERNAME = USER;
    process.env.GRID5000_PASSWORD = PASSWORD;
    process.env.GREENRACE_G5K_INSIDE = '0';
    delete process.env.GREENRACE_G5K_CREDENTIALS;
    // control + broker on gros (wattmetres, nancy), the worker on paravance (BMC only, rennes): two sites.
    const exp = experiment(
      { cluster: 'gros', roles: { worker: { cluster: 'paravance' } }, api_url: d.url, public_key: pubKey(dir), jump: 'never', user: USER },
      { control: 1, broker: 1, worker: 1 },
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
      services: [],
      // Nobody listens there: the Prometheus sources (scaphandre, rapl, model) fail, Kwollect answers.
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

  it('reports source kwollect per host with the double\'s exact integral within 0.5 %', async () => {
    const ctx = await energyContext(EXP);
    expect(ctx.hosts.map((h) => h.attributes?.g5k_fqdn)).toEqual(handle.hosts.map((h) => h.vars?.g5k_fqdn));
    const end = Math.floor(d.clock.now()) - 600;
    const window = { start: end - 900, end };
    const acc = await energyAccount(ctx.sources, ctx.hosts, window, { minCoverage: ctx.state.experimentSnapshot.energy.min_coverage });
    expect(acc.hosts.map((h) => h.source)).toEqual(['kwollect:wattmetre_power_watt', 'kwollect:wattmetre_power_watt', 'kwollect:bmc_node_power_watt']);
    let exact = 0;
    for (const [i, h] of acc.hosts.entries()) {
      const fqdn = String(handle.hosts[i]!.vars?.g5k_fqdn);
      const metric = h.source === 'kwollect:wattmetre_power_watt' ? 'wattmetre_power_watt' : 'bmc_node_power_watt';
      const want = d.energy(fqdn, metric, window.start, window.end);
      exact += want;
      expect(Math.abs(h.joules! - want) / want).toBeLessThan(0.005);
      expect(h.coverage.fraction).toBeGreaterThan(0.95);
    }
    expect(Math.abs(acc.totalJoules! - exact) / exact).toBeLessThan(0.005);
    expect(acc.sources).toEqual(['kwollect:wattmetre_power_watt', 'kwollect:bmc_node_power_watt']);
    // One Kwollect request per site for this 15-minute window, authenticated (the double refuses anonymous calls).
    expect(d.count('GET /sites/{site}/metrics')).toBe(2);
  });

  it('without credentials the Kwollect source fails alone, named, and the password appears nowhere', async () => {
    delete process.env.GRID5000_PASSWORD;
    process.env.GREENRACE_G5K_CREDENTIALS = join(dir, 'missing.yaml');
    try {
      const ctx = await energyContext(EXP);
      const end = Math.floor(d.clock.now()) - 600;
      const acc = await energyAccount(ctx.sources, ctx.hosts, { start: end - 60, end });
      expect(acc.errors.kwollect).toContain("no Grid'5000 API credentials");
      expect(JSON.stringify(acc)).not.toContain(PASSWORD);
      expect(acc.totalJoules).toBeNull();
    } finally {
      process.env.GRID5000_PASSWORD = PASSWORD;
      delete process.env.GREENRACE_G5K_CREDENTIALS;
    }
  });
});
