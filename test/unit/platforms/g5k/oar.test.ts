import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignRoles, jobSpecs, parseOarRefusal, resourceString } from '../../../../src/platforms/g5k/oar.js';
import { resolveRequest } from '../../../../src/platforms/g5k/resolve.js';
import { G5kPlatform } from '../../../../src/platforms/g5k/platform.js';
import { startDouble } from '../../../support/g5k-double/index.js';
import type { G5kDouble } from '../../../support/g5k-double/index.js';
import { experiment, tmp } from './helpers.js';

describe('OAR request', () => {
  it('1 control + 3 broker + 2 worker on paravance is one job of 6 nodes at rennes', async () => {
    const r = await resolveRequest(experiment({ cluster: 'paravance' }), { control: 1, broker: 3, worker: 2 });
    const [spec, ...more] = jobSpecs(r.placements, r.job);
    expect(more).toEqual([]);
    expect(spec!.site).toBe('rennes');
    expect(spec!.resources).toBe("{cluster='paravance'}/nodes=6,walltime=02:00:00");
    expect(spec!.submission).toEqual({
      name: 'greenrace-kafka3',
      resources: "{cluster='paravance'}/nodes=6,walltime=02:00:00",
      command: 'sleep 31536000',
      types: ['deploy'],
      queue: 'default',
    });
  });

  it('per-role clusters, specific nodes first, project, types, reservation, walltime normalised', async () => {
    const e = experiment({
      cluster: 'paravance',
      walltime: '3:30',
      project: 'greenstream',
      types: ['night', 'monitor=wattmetre_power_watt'],
      reservation: '2030-01-02 19:00',
      roles: { control: { nodes: ['paradoxe-4'] }, broker: { cluster: 'paradoxe' } },
    });
    const r = await resolveRequest(e, { control: 1, broker: 3, worker: 2 });
    const [spec] = jobSpecs(r.placements, r.job);
    expect(spec!.resources).toBe(
      "{network_address in ('paradoxe-4.rennes.grid5000.fr')}/nodes=1+{cluster='paradoxe'}/nodes=3+{cluster='paravance'}/nodes=2,walltime=03:30:00",
    );
    expect(spec!.submission.types).toEqual(['deploy', 'night', 'monitor=wattmetre_power_watt']);
    expect(spec!.submission.project).toBe('greenstream');
    expect(spec!.submission.reservation).toBe('2030-01-02 19:00');
  });

  it('roles on two sites make one job per site, both named after the experiment', async () => {
    const r = await resolveRequest(experiment({ cluster: 'gros', roles: { worker: { cluster: 'nova' } } }), { control: 1, broker: 0, worker: 2 });
    const specs = jobSpecs(r.placements, r.job);
    expect(specs.map((s) => [s.site, s.name, s.resources])).toEqual([
      ['nancy', 'greenrace-kafka3', "{cluster='gros'}/nodes=1,walltime=02:00:00"],
      ['lyon', 'greenrace-kafka3', "{cluster='nova'}/nodes=2,walltime=02:00:00"],
    ]);
  });

  it('a node list that does not match the role size names the key', async () => {
    await expect(resolveRequest(experiment({ cluster: 'gros', roles: { broker: { nodes: ['gros-1'] } } }), { control: 1, broker: 3, worker: 0 })).rejects.toThrow(
      /platform\.g5k\.roles\.broker\.nodes: lists 1 node\(s\) but roles\.broker is 3/,
    );
  });

  it('hands nodes to roles: named nodes to their role, then control, broker, worker in node order', () => {
    const placements = [
      { role: 'control' as const, count: 1, site: 'rennes', cluster: 'paravance', nodes: [] },
      { role: 'broker' as const, count: 2, site: 'rennes', cluster: 'paravance', nodes: ['paravance-7.rennes.grid5000.fr', 'paravance-1.rennes.grid5000.fr'] },
      { role: 'worker' as const, count: 1, site: 'rennes', cluster: 'paravance', nodes: [] },
    ];
    expect(resourceString(placements, '1:00')).toBe(
      "{network_address in ('paravance-7.rennes.grid5000.fr', 'paravance-1.rennes.grid5000.fr')}/nodes=2+{cluster='paravance'}/nodes=2,walltime=01:00:00",
    );
    const m = assignRoles(placements, ['paravance-10.rennes.grid5000.fr', 'paravance-7.rennes.grid5000.fr', 'paravance-1.rennes.grid5000.fr', 'paravance-3.rennes.grid5000.fr'], 'rennes');
    expect(Object.fromEntries(m)).toEqual({
      control: ['paravance-3.rennes.grid5000.fr'],
      broker: ['paravance-7.rennes.grid5000.fr', 'paravance-1.rennes.grid5000.fr'],
      worker: ['paravance-10.rennes.grid5000.fr'],
    });
  });

  it("reads OAR's refusals", () => {
    expect(parseOarRefusal('Reservation not valid --> KO (This reservation could run at 2030-01-02 19:30:00)')).toMatchObject({ kind: 'could_run_at', date: '2030-01-02 19:30:00' });
    expect(parseOarRefusal('Unable to submit the job: Reservation too old').kind).toBe('too_old');
    expect(parseOarRefusal('There are not enough resources for your request').kind).toBe('other');
  });
});

describe('setup --dry-run (plan)', () => {
  let d: G5kDouble;
  beforeAll(async () => {
    d = await startDouble();
  });
  afterAll(() => d.stop());

  it('prints the job name and the full OAR request and calls no API', async () => {
    const p = new G5kPlatform({ inside: false });
    const e = experiment({ cluster: 'paravance', api_url: d.url, user: 'alice', types: ['night'] });
    const plan = await p.plan({ experiment: e, roles: { control: 1, broker: 3, worker: 2 }, stateDir: tmp() });
    const text = plan.lines.join('\n');
    expect(text).toContain('g5k job "greenrace-kafka3" at rennes');
    expect(text).toContain("resources: {cluster='paravance'}/nodes=6,walltime=02:00:00");
    expect(text).toContain('queue: default');
    expect(text).toContain('types: deploy, night');
    expect(text).toContain('ProxyJump alice@access.grid5000.fr');
    expect(plan.hosts.map((h) => h.roles[0])).toEqual(['control', 'broker', 'broker', 'broker', 'worker', 'worker']);
    expect(d.count()).toBe(0);
  });

  it('an unknown cluster is named as looked up later, still without calling the API', async () => {
    const p = new G5kPlatform({ inside: true });
    const plan = await p.plan({ experiment: experiment({ cluster: 'grappe', api_url: d.url }), roles: { control: 1, broker: 0, worker: 1 }, stateDir: tmp() });
    expect(plan.lines.join('\n')).toMatch(/grappe: not in the presets; their site is looked up in the reference API/);
    expect(plan.lines.join('\n')).toContain('(direct: inside Grid\'5000)');
    expect(d.count()).toBe(0);
  });
});
