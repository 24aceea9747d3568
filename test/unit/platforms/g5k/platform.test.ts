import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../../../src/core/errors.js';
import { G5kApiError } from '../../../../src/platforms/g5k/api.js';
import { reserveJobs } from '../../../../src/platforms/g5k/reservation.js';
import { resolveRequest } from '../../../../src/platforms/g5k/resolve.js';
import { jobSpecs } from '../../../../src/platforms/g5k/oar.js';
import { steppedClock } from '../../../support/g5k-double/index.js';
import type { G5kDouble } from '../../../support/g5k-double/index.js';
import { api, doubleForFile, experiment, PASSWORD, platform, pubKey, tmp, USER } from './helpers.js';

const ROLES = { control: 1, broker: 3, worker: 2 };

describe('g5k platform against the API double', () => {
  // no line any test produced may hold the password (checked after each test)
  const t = doubleForFile();
  let d: G5kDouble;
  const log = t.log;
  beforeAll(() => {
    d = t.d;
  });

  const exp = (extra: Record<string, unknown> = {}) =>
    experiment({ cluster: 'paravance', api_url: d.url, public_key: pubKey(tmp()), jump: 'always', user: USER, ...extra });

  it('reserves, deploys and hands out 6 hosts with their roles; a second setup reattaches (one submission)', async () => {
    const p = platform(d, log);
    const stateDir = tmp();
    const before = d.count('POST /sites/{site}/jobs');
    const h = await p.reserve({ experiment: exp(), roles: ROLES, stateDir, progress: (l) => log.push(l) });
    expect(h.hosts.map((x) => [x.name, x.roles.join()])).toEqual([
      ['paravance-1', 'control'],
      ['paravance-2', 'broker'],
      ['paravance-3', 'broker'],
      ['paravance-4', 'broker'],
      ['paravance-5', 'worker'],
      ['paravance-6', 'worker'],
    ]);
    const h0 = h.hosts[0]!;
    expect(h0.address).toBe('paravance-1.rennes.grid5000.fr');
    // each node is its own machine, named by its fqdn
    expect(h.hosts.map((x) => x.machine)).toEqual(h.hosts.map((x) => `${x.name}.rennes.grid5000.fr`));
    expect(h0.user).toBe('root');
    expect(String(h0.vars?.ansible_ssh_common_args)).toContain('ProxyJump=alice@access.grid5000.fr');
    const job = d.jobs.at(-1)!;
    expect(job.resources).toBe("{cluster='paravance'}/nodes=6,walltime=02:00:00");
    expect(job.types).toEqual(['deploy']);
    expect(job.name).toBe('greenrace-kafka3');
    expect(d.deployments.at(-1)!.environment).toBe('debian12-min');
    expect(log.some((l) => /job \d+ at rennes: waiting, scheduled start/.test(l))).toBe(true);
    expect(JSON.parse(readFileSync(join(stateDir, 'g5k.json'), 'utf8')).jobs).toEqual([{ site: 'rennes', uid: job.uid }]);

    // second setup, with the previous handle, then without it (state only on disk), then with no state at all
    const h2 = await p.reserve({ experiment: exp(), roles: ROLES, stateDir, progress: (l) => log.push(l) }, h);
    const h3 = await platform(d, log, { deployed: new Set(h.hosts.map((x) => x.address)) }).reserve({ experiment: exp(), roles: ROLES, stateDir: tmp() });
    expect(d.count('POST /sites/{site}/jobs') - before).toBe(1);
    expect(h2.hosts.map((x) => x.name)).toEqual(h.hosts.map((x) => x.name));
    expect(h3.hosts.map((x) => x.name)).toEqual(h.hosts.map((x) => x.name));
    expect(log.some((l) => l.startsWith(`reattached to job ${job.uid}`))).toBe(true);

    // release by id; a second release is not an error
    await p.release(stateDir, h2, (l) => log.push(l));
    expect(d.jobState(job)).toBe('terminated');
    expect(existsSync(join(stateDir, 'g5k.json'))).toBe(false);
    await p.release(stateDir, h2, (l) => log.push(l));
    expect(log.at(-1)).toMatch(/job \d+ at rennes is already terminated; no DELETE needed/);
  });

  it('release deletes only recorded jobs; by name (killjob --by-name, lost state) it finds and names the job', async () => {
    const p = platform(d, log);
    const stateDir = tmp();
    const e = exp({ job_name: 'byname' });
    const roles = { control: 1, broker: 0, worker: 0 };
    const h = await p.reserve({ experiment: e, roles, stateDir });
    const uid = (h.data.jobs as { uid: number }[])[0]!.uid;
    const lines: string[] = [];
    await p.release(stateDir, { ...h, data: { ...h.data, jobs: [] } }, (l) => lines.push(l));
    expect(d.jobState(d.jobs.find((j) => j.uid === uid)!)).toBe('running');
    await p.release(stateDir, undefined, (l) => lines.push(l), { byName: { experiment: e, roles } });
    expect(d.jobState(d.jobs.find((j) => j.uid === uid)!)).toBe('terminated');
    expect(lines).toContain(`g5k: found job ${uid} (running) of ${USER} named byname at rennes; deleting it`);
    expect(lines).toContain(`g5k: deleted job ${uid} at rennes`);
    log.push(...lines);
  });

  it('deployment: a node failing twice is retried and ends deployed; already deployed nodes are skipped', async () => {
    d.faults.deployFailures = { 'paravance-2': 2 };
    const p = platform(d, log, { deployed: new Set(['paravance-1.rennes.grid5000.fr']) });
    const stateDir = tmp();
    const nDeploy = d.deployments.length;
    const h = await p.reserve({ experiment: exp({ job_name: 'deploy-retry' }), roles: { control: 1, broker: 1, worker: 1 }, stateDir, progress: (l) => log.push(l) });
    const deps = d.deployments.slice(nDeploy);
    expect(deps.map((x) => x.nodes.map((n) => n.split('.')[0]))).toEqual([['paravance-2', 'paravance-3'], ['paravance-2'], ['paravance-2']]);
    expect(log).toContain('already deployed, skipped: paravance-1');
    expect(h.hosts).toHaveLength(3);
    await p.release(stateDir, h);
  });

  it('deployment: a node KO three times is named in the error', async () => {
    d.faults.deployFailures = { 'paravance-3': 3 };
    const p = platform(d, log);
    const stateDir = tmp();
    const err = await p.reserve({ experiment: exp({ job_name: 'deploy-ko' }), roles: { control: 1, broker: 1, worker: 1 }, stateDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('g5k.deploy.failed');
    expect((err as PlatformError).message).toMatch(/debian12-min could not be deployed on paravance-3 after 3 attempts/);
    expect((err as PlatformError).hosts).toEqual(['paravance-3.rennes.grid5000.fr']);
    await p.release(stateDir);
  });

  it('two live jobs of the same name: an error naming both, nothing submitted', async () => {
    const a = d.seedJob({ site: 'rennes', name: 'greenrace-dup', user: USER, cluster: 'paravance' });
    const b = d.seedJob({ site: 'rennes', name: 'greenrace-dup', user: USER, cluster: 'paravance', state: 'waiting' });
    const before = d.count('POST /sites/{site}/jobs');
    const err = await platform(d, log)
      .reserve({ experiment: exp({ job_name: 'greenrace-dup' }), roles: { control: 1, broker: 0, worker: 0 }, stateDir: tmp() })
      .catch((e: unknown) => e);
    expect((err as PlatformError).code).toBe('g5k.job.duplicate');
    expect((err as Error).message).toContain(String(a));
    expect((err as Error).message).toContain(String(b));
    expect(d.count('POST /sites/{site}/jobs')).toBe(before);
    for (const j of d.jobs.filter((x) => x.name === 'greenrace-dup')) j.killed_at = d.clock.now();
  });

  it("a job that ends in error fails with OAR's message", async () => {
    d.faults.jobError = 'Job killed: node paravance-4 is Suspected';
    const err = await platform(d, log)
      .reserve({ experiment: exp({ job_name: 'errjob' }), roles: { control: 1, broker: 0, worker: 0 }, stateDir: tmp() })
      .catch((e: unknown) => e);
    expect((err as PlatformError).code).toBe('g5k.job.failed');
    expect((err as Error).message).toMatch(/job \d+ at rennes is error: Job killed: node paravance-4 is Suspected/);
  });

  it('"could run at" is reported with the date and a hint', async () => {
    d.faults.couldRunAt = Date.UTC(2030, 0, 2, 17, 30) / 1000;
    const err = (await platform(d, log)
      .reserve({ experiment: exp({ job_name: 'later', reservation: '2030-01-02 18:00' }), roles: { control: 1, broker: 0, worker: 0 }, stateDir: tmp() })
      .catch((e: unknown) => e)) as PlatformError;
    expect(err.code).toBe('g5k.job.could_run_at');
    expect(err.message).toContain('could run at 2030-01-02 18:30:00');
    expect(err.hint).toContain('platform.g5k.reservation: "2030-01-02 18:30:00"');
  });

  it('"reservation too old" and other refusals carry OAR\'s words', async () => {
    d.faults.reservationTooOld = true;
    const e1 = (await platform(d, log)
      .reserve({ experiment: exp({ job_name: 'old', reservation: '2001-01-01 10:00' }), roles: { control: 1, broker: 0, worker: 0 }, stateDir: tmp() })
      .catch((e: unknown) => e)) as PlatformError;
    expect(e1.code).toBe('g5k.job.too_old');
    const e2 = (await platform(d, log)
      .reserve({ experiment: exp({ job_name: 'huge' }), roles: { control: 1, broker: 50, worker: 0 }, stateDir: tmp() })
      .catch((e: unknown) => e)) as PlatformError;
    expect(e2.code).toBe('g5k.job.rejected');
    expect(e2.message).toContain('There are not enough resources for your request');
  });

  it('a burst of 503 answers is retried with backoff and the reservation goes through', async () => {
    d.faults.http5xx = { count: 3, match: '/jobs/' };
    const p = platform(d, log);
    const stateDir = tmp();
    const h = await p.reserve({ experiment: exp({ job_name: 'flaky', deploy: false }), roles: { control: 1, broker: 0, worker: 0 }, stateDir });
    expect(d.faults.http5xx.count).toBe(0);
    expect(log.filter((l) => /GET \/sites\/rennes\/jobs\/\d+: 503 .*retry \d\/3/.test(l))).toHaveLength(3);
    expect(h.hosts[0]!.user).toBe(USER);
    expect(h.hosts[0]!.vars?.ansible_become_exe).toBe('sudo-g5k');
    await p.release(stateDir, h);
  });

  it('a 5xx on submission: looks for the job before submitting again (no duplicate)', async () => {
    d.faults.http5xx = { count: 1, match: '/sites/rennes/jobs' };
    const p = platform(d, log);
    const stateDir = tmp();
    const before = d.jobs.length;
    const h = await p.reserve({ experiment: exp({ job_name: 'post5xx', deploy: false }), roles: { control: 1, broker: 0, worker: 0 }, stateDir, progress: (l) => log.push(l) });
    expect(d.jobs.length - before).toBe(1);
    await p.release(stateDir, h);
  });

  it('slow answers time out and are retried', async () => {
    d.faults.slow = { count: 2, ms: 700, match: '/clusters' };
    const lines: string[] = [];
    const a = api(d, (l) => lines.push(l), 300);
    const c = await a.cluster('nancy', 'grappe');
    expect(c.uid).toBe('grappe');
    expect(lines.filter((l) => /no answer within 0.3 s; retry/.test(l))).toHaveLength(2);
  });

  it('an unknown cluster is looked up in the reference API (site, queue)', async () => {
    const p = platform(d, log);
    const stateDir = tmp();
    const h = await p.reserve({ experiment: exp({ cluster: 'grappe', job_name: 'lookup', deploy: false }), roles: { control: 1, broker: 0, worker: 1 }, stateDir });
    const job = d.jobs.at(-1)!;
    expect(job.site).toBe('nancy');
    expect(job.queue).toBe('production');
    expect(h.hosts.map((x) => x.address)).toEqual(['grappe-1.nancy.grid5000.fr', 'grappe-2.nancy.grid5000.fr']);
    await p.release(stateDir, h);
    const err = await p.reserve({ experiment: exp({ cluster: 'nosuch', deploy: false }), roles: { control: 1, broker: 0, worker: 0 }, stateDir }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no cluster named nosuch at any site/);
  });

  it('exotic clusters get the exotic type', async () => {
    const r = await resolveRequest(exp({ cluster: 'yeti', site: 'grenoble' }), { control: 1, broker: 0, worker: 0 }, async () => ({ site: 'grenoble', exotic: true }));
    expect(jobSpecs(r.placements, r.job)[0]!.submission.types).toEqual(['deploy', 'exotic']);
  });

  it('401 and 403 become clear errors without the password', async () => {
    const bad = new (await import('../../../../src/platforms/g5k/api.js')).G5kApi({
      baseUrl: d.url,
      credentials: { username: USER, password: new (await import('../../../../src/platforms/g5k/credentials.js')).Secret('wrong-' + PASSWORD), origin: 't' },
    });
    const e = (await bad.sites().catch((x: unknown) => x)) as G5kApiError;
    expect(e.code).toBe('g5k.api.unauthorized');
    expect(e.message).toMatch(/refused the credentials \(401, user alice\)/);
    expect(JSON.stringify(e) + e.message + String(e.cause)).not.toContain(PASSWORD);
    const bobsJob = d.seedJob({ site: 'rennes', name: 'bobs', user: 'bob', cluster: 'paravance' });
    const f = (await api(d).deleteJob('rennes', bobsJob).catch((x: unknown) => x)) as G5kApiError;
    expect(f.code).toBe('g5k.api.forbidden');
    expect(f.message).toMatch(/forbidden \(403, user alice\)/);
  });

  it('waiting polls back off: a job waiting 10 minutes costs few API calls', async () => {
    d.faults.jobWaitSeconds = 600;
    const clock = steppedClock(d);
    const a = api(d);
    const r = await resolveRequest(exp({ job_name: 'tenmin', deploy: false }), { control: 1, broker: 0, worker: 0 });
    const lines: string[] = [];
    const { jobs } = await reserveJobs(jobSpecs(r.placements, r.job), { api: a, clock, user: USER, progress: (l) => lines.push(l) });
    delete d.faults.jobWaitSeconds;
    expect(jobs[0]!.state).toBe('running');
    expect(a.calls).toBeLessThanOrEqual(10);
    expect(lines[1]).toMatch(/waiting, scheduled start .* \(in 10 min\)/);
    await a.deleteJob('rennes', jobs[0]!.uid);
  });
});
