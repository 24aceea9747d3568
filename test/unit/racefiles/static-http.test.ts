/**
 * racefiles/static-http.yaml.njk declares the programs it runs, per role, so `race` checks them on
 * the right hosts (and installs them through net-tools.yml when missing) before deploying anything.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRacefile } from '../../../src/workloads/race/load.js';

const FILE = join(import.meta.dirname, '../../../racefiles/static-http.yaml.njk');
const hosts = {
  control: [{ name: 'control-1', address: '10.88.3.2' }],
  broker: [{ name: 'broker-1', address: '10.88.3.3' }],
  worker: [{ name: 'worker-1', address: '10.88.3.4' }],
};

describe('static-http racefile requires', () => {
  it('nginx on the server role, wrk on the client role (defaults: worker serves, control loads)', () => {
    const r = loadRacefile(FILE, { params: {}, hosts, run: { id: 'r1' } });
    expect(r.race.requires).toEqual({ worker: ['nginx'], control: ['wrk'] });
  });

  it('follows the role parameters, and one role doing both needs both', () => {
    expect(loadRacefile(FILE, { params: { server_role: 'broker', client_role: 'worker' }, hosts, run: { id: 'r2' } }).race.requires).toEqual({
      broker: ['nginx'],
      worker: ['wrk'],
    });
    expect(loadRacefile(FILE, { params: { server_role: 'worker', client_role: 'worker' }, hosts, run: { id: 'r3' } }).race.requires).toEqual({ worker: ['nginx', 'wrk'] });
  });
});
