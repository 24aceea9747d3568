/**
 * Grid'5000 faults (issue 13, items 1–12), each against the API double: what greenrace does when jobs
 * it did not make share its name, the API goes away while a job waits, the server's clock is ahead,
 * OAR refuses, Ctrl-C comes while waiting or deploying, an answer is lost, a job is held.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep as baselineSleep } from '../../../../src/app/baseline.js';
import { InterruptedError, PlatformError } from '../../../../src/core/errors.js';
import { G5kApi } from '../../../../src/platforms/g5k/api.js';
import { Secret } from '../../../../src/platforms/g5k/credentials.js';
import { deployNodes } from '../../../../src/platforms/g5k/deployment.js';
import { kwollectEnergy, parseKwollectTime } from '../../../../src/platforms/g5k/kwollect.js';
import { jobSpecs } from '../../../../src/platforms/g5k/oar.js';
import { reserveJobs } from '../../../../src/platforms/g5k/reservation.js';
import { resolveRequest } from '../../../../src/platforms/g5k/resolve.js';
import { ReservationKeptError } from '../../../../src/platforms/platform.js';
import { steppedClock } from '../../../support/g5k-double/index.js';
import type { G5kDouble } from '../../../support/g5k-double/index.js';
import { api, doubleForFile, experiment, PASSWORD, platform, pubKey, tmp, USER } from './helpers.js';

const ONE = { control: 1, broker: 0, worker: 0 };

describe("Grid'5000 faults against the API double", () => {
  const t = doubleForFile();
  let d: G5kDouble;
  const log = t.log;
  beforeAll(() => {
    d = t.d;
  });
  afterEach(() => {
    d.faults.outage = undefined;
    // each test starts with free nodes, whatever the one before left
    for (const j of d.jobs) if (j.killed_at === undefined) j.killed_at = d.clock.now();
  });

  const exp = (extra: Record<string, unknown> = {}) =>
    experiment({ cluster: 'paravance', api_url: d.url, public_key: pubKey(tmp()), jump: 'always', user: USER, ...extra });
  const jobOf = (uid: number) => d.jobs.find((j) => j.uid === uid)!;
  const live = (uid: number) => ['waiting', 'hold', 'launching', 'running'].includes(d.jobState(jobOf(uid)));
  const kill = (...uids: number[]) => uids.forEach((u) => (jobOf(u).killed_at = d.clock.now()));
  /** Reserve `jobName` with Ctrl-C at the first progress line matching `at`; the error, the lines, the state folder. */
  const reserveUntilCtrlC = async (jobName: string, at: RegExp): Promise<{ err: Error; lines: string[]; stateDir: string; p: ReturnType<typeof platform> }> => {
    const ac = new AbortController();
    const lines: string[] = [];
    const stateDir = tmp();
    const p = platform(d, log, { clock: steppedClock(d, { limit: 3600 }) });
    const progress = (l: string): void => {
      lines.push(l);
      if (at.test(l)) ac.abort();
    };
    const err = (await p.reserve({ experiment: exp({ job_name: jobName }), roles: ONE, stateDir, signal: ac.signal, progress }).catch((e: unknown) => e)) as Error;
    return { err, lines, stateDir, p };
  };

  it('1. a failed first reservation deletes no job it did not create, and never another user\'s', async () => {
    const a = d.seedJob({ site: 'rennes', name: 'greenrace-dup1', user: USER, cluster: 'paravance' });
    const b = d.seedJob({ site: 'rennes', name: 'greenrace-dup1', user: USER, cluster: 'paravance', state: 'waiting' });
    const bobs = d.seedJob({ site: 'rennes', name: 'greenrace-dup1', user: 'bob', cluster: 'paravance' });
    const p = platform(d, log);
    const stateDir = tmp();
    const deletes = d.count('DELETE /sites/{site}/jobs/{id}');
    const err = (await p.reserve({ experiment: exp({ job_name: 'greenrace-dup1' }), roles: ONE, stateDir }).catch((e: unknown) => e)) as PlatformError;
    expect(err.code).toBe('g5k.job.duplicate');
    expect(err.message).toMatch(new RegExp(`2 live jobs of ${USER} named greenrace-dup1 at rennes: .*${a}.*${b}|2 live jobs of ${USER} named greenrace-dup1 at rennes: .*${b}.*${a}`));
    expect(err.message).not.toContain(String(bobs));
    // what setup's rollback does after a failed first reservation
    const lines: string[] = [];
    await p.release(stateDir, undefined, (l) => lines.push(l));
    expect([live(a), live(b), live(bobs)]).toEqual([true, true, true]);
    expect(d.count('DELETE /sites/{site}/jobs/{id}')).toBe(deletes);
    expect(lines).toEqual(['g5k: no job recorded (none was created); nothing to release']);
    kill(a, b, bobs);
  });

  it('2. a setup that died between submitting and recording: killjob names the job and leaves it; --by-name deletes it', async () => {
    const stateDir = tmp();
    const uid = d.seedJob({ site: 'rennes', name: 'greenrace-halfway', user: USER, cluster: 'paravance' });
    writeFileSync(
      join(stateDir, 'g5k.json'),
      JSON.stringify({ jobName: 'greenrace-halfway', apiUrl: d.url, apiTimeout: 5, user: USER, sites: ['rennes'], jobs: [], submitting: [{ site: 'rennes', since: Math.floor(d.clock.now()) }] }),
    );
    const p = platform(d, log);
    const lines: string[] = [];
    expect(await p.release(stateDir, undefined, (l) => lines.push(l))).toEqual([]);
    expect(lines).toContain(`g5k: left alone: live job(s) ${uid} named greenrace-halfway at rennes, not recorded by this experiment (killjob --by-name deletes them)`);
    expect(live(uid)).toBe(true);
    const e = exp({ job_name: 'greenrace-halfway' });
    expect(await p.release(stateDir, undefined, (l) => lines.push(l), { byName: { experiment: e, roles: ONE } })).toEqual([`job ${uid} at rennes`]);
    expect(live(uid)).toBe(false);
  });

  it('3. an outage while the job waits: reads are retried with progress, the job is never released, setup goes on', async () => {
    const clock = steppedClock(d, { limit: 3 * 3600 });
    const lines: string[] = [];
    const a = new G5kApi({ baseUrl: d.url, credentials: { username: USER, password: new Secret(PASSWORD), origin: 't' }, retry: { attempts: 2, baseDelayMs: 5 } });
    const r = await resolveRequest(exp({ job_name: 'outage', deploy: false }), ONE);
    const deletes = d.count('DELETE /sites/{site}/jobs/{id}');
    let uid = 0;
    const { jobs } = await reserveJobs(jobSpecs(r.placements, r.job), {
      api: a,
      clock,
      user: USER,
      progress: (l) => lines.push(l),
      waitTimeout: 3600,
      onJob: (ref) => {
        uid = ref.uid;
        // the API goes away for 90 s of the double's time, right after the submission
        d.faults.outage = { until: d.clock.now() + 90 };
      },
    });
    expect(jobs[0]!.state).toBe('running');
    expect(jobs[0]!.uid).toBe(uid);
    expect(lines.some((l) => /Grid'5000 API unreachable since .* job \d+ at rennes is kept, asking again in/.test(l))).toBe(true);
    expect(lines.some((l) => /API answers again/.test(l))).toBe(true);
    expect(d.count('DELETE /sites/{site}/jobs/{id}')).toBe(deletes);
    kill(uid);
  });

  it('3. an outage longer than the wait timeout: setup stops, the queued job is kept (not rolled back)', async () => {
    const clock = steppedClock(d, { limit: 3 * 3600 });
    const r = await resolveRequest(exp({ job_name: 'outage2', deploy: false }), ONE);
    const a = new G5kApi({ baseUrl: d.url, credentials: { username: USER, password: new Secret(PASSWORD), origin: 't' }, retry: { attempts: 2, baseDelayMs: 5 } });
    let uid = 0;
    const err = await reserveJobs(jobSpecs(r.placements, r.job), {
      api: a,
      clock,
      user: USER,
      progress: () => {},
      waitTimeout: 600,
      onJob: (ref) => {
        uid = ref.uid;
        d.faults.outage = { until: d.clock.now() + 7200 };
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReservationKeptError);
    expect((err as PlatformError).code).toBe('g5k.job.wait_timeout');
    expect((err as PlatformError).message).toMatch(/did not start within 10 min .*the API has not answered since/);
    expect((err as PlatformError).hint).toMatch(new RegExp(`job ${uid} at rennes is kept`));
    d.faults.outage = undefined;
    expect(live(uid)).toBe(true);
    kill(uid);
  });

  it("4. the server's clock 10 min ahead: the wait follows the server's clock and polls just after the scheduled start", async () => {
    d.faults.jobWaitSeconds = 25;
    const clock = steppedClock(d, { offset: 600, limit: 3600 });
    const lines: string[] = [];
    const p = platform(d, log, { clock });
    const h = await p.reserve({ experiment: exp({ job_name: 'clock', deploy: false }), roles: ONE, stateDir: tmp(), progress: (l) => lines.push(l) });
    delete d.faults.jobWaitSeconds;
    const note = lines.find((l) => /waiting, scheduled start/.test(l))!;
    expect(note).toMatch(/\(in (2\d) s\)/);
    // 25 s to the start, 10 s launching: a little over 35 s of sleeping, not the 300 s the local clock suggests
    expect(clock.total()).toBeGreaterThanOrEqual(35);
    expect(clock.total()).toBeLessThan(60);
    kill(...(h.data.jobs as { uid: number }[]).map((j) => j.uid));
  });

  it("5. an OAR refusal shows OAR's message and what was asked, not g5k-api's wrapping", async () => {
    const err = (await platform(d, log)
      .reserve({ experiment: exp({ job_name: 'toobig' }), roles: { control: 1, broker: 50, worker: 0 }, stateDir: tmp() })
      .catch((e: unknown) => e)) as PlatformError;
    expect(err.code).toBe('g5k.job.rejected');
    expect(err.message).toBe('OAR refused the job at rennes: There are not enough resources for your request');
    expect(err.details).toContain("resources: {cluster='paravance'}/nodes=51,walltime=02:00:00");
    expect(err.message + err.details.join('\n')).not.toMatch(/Request to|oarapi|OAR_JOB_ID|"code"|Cmd:|Oarsub/);
  });

  it('6. Ctrl-C while deploying cancels the deployment (DELETE), says so, and keeps the job', async () => {
    const n0 = d.deployments.length;
    const { err, lines, stateDir, p } = await reserveUntilCtrlC('ctrlc-deploy', /^deploying /);
    expect(err).toBeInstanceOf(InterruptedError);
    const dep = d.deployments[n0]!;
    expect(err.message).toContain(`deployment ${dep.uid} was cancelled`);
    expect(err.message).toMatch(/job \d+ at rennes kept: `entrypoint setup kafka3` reattaches, `entrypoint killjob kafka3` deletes it/);
    expect(lines).toContain(`cancelled deployment ${dep.uid} at rennes`);
    expect(dep.canceled_at).toBeDefined();
    const uid = JSON.parse(readFileSync(join(stateDir, 'g5k.json'), 'utf8')).jobs[0].uid as number;
    expect(live(uid)).toBe(true);
    await p.release(stateDir, undefined, (l) => lines.push(l));
    expect(live(uid)).toBe(false);
  });

  it('6. killjob cancels a deployment left running by a crash, then deletes the job', async () => {
    const stateDir = tmp();
    const p = platform(d, log);
    const h = await p.reserve({ experiment: exp({ job_name: 'crash-deploy' }), roles: ONE, stateDir });
    const node = h.hosts[0]!.vars!.g5k_fqdn as string;
    // a deployment started by a setup that then crashed, recorded as it was created
    const dep = await api(d).submitDeployment('rennes', { nodes: [node], environment: 'debian12-min', key: 'k' });
    const st = JSON.parse(readFileSync(join(stateDir, 'g5k.json'), 'utf8'));
    writeFileSync(join(stateDir, 'g5k.json'), JSON.stringify({ ...st, deploying: [{ site: 'rennes', uid: dep.uid }] }));
    const lines: string[] = [];
    await p.release(stateDir, undefined, (l) => lines.push(l));
    expect(d.deployments.find((x) => x.uid === dep.uid)!.canceled_at).toBeDefined();
    expect(lines).toContain(`g5k: cancelled deployment ${dep.uid} at rennes`);
    expect(lines.some((l) => /^g5k: deleted job \d+ at rennes$/.test(l))).toBe(true);
  });

  it('7. Ctrl-C while the job waits: says the job is kept, its uid, and which commands reattach and delete it', async () => {
    d.faults.jobWaitSeconds = 600;
    const { err, stateDir } = await reserveUntilCtrlC('ctrlc-wait', /: waiting, scheduled start/);
    delete d.faults.jobWaitSeconds;
    const uid = JSON.parse(readFileSync(join(stateDir, 'g5k.json'), 'utf8')).jobs[0].uid as number;
    expect(err).toBeInstanceOf(InterruptedError);
    expect(err.message).toBe(
      `setup interrupted while job ${uid} at rennes waits; job ${uid} at rennes is kept: \`entrypoint setup kafka3\` reattaches to it, \`entrypoint killjob kafka3\` deletes it`,
    );
    expect(live(uid)).toBe(true);
    kill(uid);
  });

  it('9. a deployment whose answer was lost is found by listing, not submitted twice', async () => {
    const stateDir = tmp();
    const p = platform(d, log);
    const h = await p.reserve({ experiment: exp({ job_name: 'lost-deploy', deploy: false, types: ['deploy'] }), roles: ONE, stateDir });
    const node = h.hosts[0]!.vars!.g5k_fqdn as string;
    d.faults.lostAnswer = { count: 1, method: 'POST', match: '/deployments' };
    const lines: string[] = [];
    const n0 = d.deployments.length;
    const report = await deployNodes({
      api: api(d),
      clock: steppedClock(d, { limit: 3600 }),
      site: 'rennes',
      nodes: [node],
      environment: 'debian12-min',
      key: 'ssh-ed25519 AAAA test',
      user: USER,
      isDeployed: async () => false,
      progress: (l) => lines.push(l),
    });
    expect(d.deployments.length - n0).toBe(1);
    expect(report.deployed).toEqual([node]);
    expect(lines.some((l) => /got no clear answer/.test(l))).toBe(true);
    expect(lines).toContain(`deployment ${d.deployments[n0]!.uid} exists: following it`);
    await p.release(stateDir, h);
  });

  it('10. a job on hold: says what OAR says, stops after the wait timeout and keeps the job', async () => {
    d.faults.jobHold = '[oarhold] Job is held by an administrator (maintenance of paravance)';
    const lines: string[] = [];
    const stateDir = tmp();
    const err = (await platform(d, log, { clock: steppedClock(d, { limit: 4 * 3600 }) })
      .reserve({ experiment: exp({ job_name: 'held', wait_timeout: '30m' }), roles: ONE, stateDir, progress: (l) => lines.push(l) })
      .catch((e: unknown) => e)) as PlatformError;
    expect(err).toBeInstanceOf(ReservationKeptError);
    expect(err.code).toBe('g5k.job.wait_timeout');
    expect(err.message).toMatch(/did not start within 30 min \(platform\.g5k\.wait_timeout\): it is still hold \(OAR: \[oarhold\] Job is held by an administrator/);
    expect(lines.some((l) => /: hold \(OAR: \[oarhold\]/.test(l))).toBe(true);
    const uid = JSON.parse(readFileSync(join(stateDir, 'g5k.json'), 'utf8')).jobs[0].uid as number;
    expect(d.jobState(jobOf(uid))).toBe('hold');
    kill(uid);
  });

  it('11. a deployment forgets the old host keys of the nodes it deployed, and only theirs', async () => {
    const stateDir = tmp();
    const kh = join(stateDir, 'g5k_known_hosts');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldKeyOfTheNodeBeforeItWasRedeployed00000';
    writeFileSync(kh, [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `paravance-${i}.rennes.grid5000.fr ${key}\n`).join('') + `other.example.org ${key}\n`);
    const p = platform(d, log);
    const h = await p.reserve({ experiment: exp({ job_name: 'keys' }), roles: ONE, stateDir });
    const node = h.hosts[0]!.address;
    const left = readFileSync(kh, 'utf8');
    expect(left).not.toContain(`${node} `);
    expect(left.split('\n').filter(Boolean)).toHaveLength(8);
    expect(left).toContain('other.example.org');
    expect(existsSync(`${kh}.old`)).toBe(false);
    expect(String(h.hosts[0]!.vars?.ansible_ssh_common_args)).toContain(`UserKnownHostsFile=${kh} -o StrictHostKeyChecking=accept-new`);
    await p.release(stateDir, h);
  });

  it('12. a job that ended in error gets no DELETE', async () => {
    d.faults.jobError = 'Job killed: node paravance-4 is Suspected';
    const stateDir = tmp();
    const p = platform(d, log);
    const err = (await p.reserve({ experiment: exp({ job_name: 'errjob2' }), roles: ONE, stateDir }).catch((e: unknown) => e)) as PlatformError;
    expect(err.code).toBe('g5k.job.failed');
    const before = d.count('DELETE /sites/{site}/jobs/{id}');
    const lines: string[] = [];
    await p.release(stateDir, undefined, (l) => lines.push(l));
    expect(d.count('DELETE /sites/{site}/jobs/{id}')).toBe(before);
    expect(lines.some((l) => /is already error; no DELETE needed/.test(l))).toBe(true);
  });

  it('12. the dry run says why SSH is direct with jump: never', async () => {
    const plan = await platform(d, log).plan({ experiment: exp({ jump: 'never' }), roles: ONE, stateDir: tmp() });
    expect(plan.lines.join('\n')).toContain('(direct: jump: never)');
    expect(plan.lines.join('\n')).not.toContain("inside Grid'5000");
  });

  it('12. Kwollect: one reference lookup per cluster, not per host', async () => {
    const before = d.count('GET /sites/{site}/clusters/{cluster}');
    const t = Math.floor(d.clock.now()) - 3600;
    const hosts = [1, 2, 3].map((i) => ({ host: `paradoxe-${i}`, fqdn: `paradoxe-${i}.rennes.grid5000.fr` }));
    const r = await kwollectEnergy(api(d), hosts, t, t + 60);
    expect(r.map((x) => x.source)).toEqual(Array(3).fill('kwollect:wattmetre_power_watt'));
    expect(d.count('GET /sites/{site}/clusters/{cluster}') - before).toBe(1);
  });

  it('12. Ctrl-C reaches the API client between retries', async () => {
    const ac = new AbortController();
    const a = new G5kApi({
      baseUrl: d.url,
      credentials: { username: USER, password: new Secret(PASSWORD), origin: 't' },
      retry: { attempts: 5, baseDelayMs: 60_000 },
      signal: ac.signal,
      log: () => ac.abort(), // Ctrl-C as the first retry is announced
    });
    d.faults.http5xx = { count: 5, match: '/sites' };
    await expect(a.sites()).rejects.toBeInstanceOf(InterruptedError);
    d.faults.http5xx = { count: 0 };
  });
});

describe('12. small things', () => {
  it('Kwollect times without an offset are Europe/Paris with its summer time', () => {
    expect(parseKwollectTime('2025-07-01T12:00:00')).toBe(Date.UTC(2025, 6, 1, 10) / 1000);
    expect(parseKwollectTime('2025-01-15T12:00:00.5')).toBe(Date.UTC(2025, 0, 15, 11) / 1000 + 0.5);
    expect(parseKwollectTime('2025-07-01T12:00:00+02:00')).toBe(Date.UTC(2025, 6, 1, 10) / 1000);
  });

  it("baseline's one-second sleeps leave no abort listener behind", async () => {
    const ac = new AbortController();
    for (let i = 0; i < 15; i++) await baselineSleep(1, ac.signal);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
