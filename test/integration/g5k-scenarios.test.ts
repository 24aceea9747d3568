/**
 * Grid'5000 fault scenarios, as a user meets them: the built CLI (`setup`, `killjob`) against the API
 * double in this process, both clocks 30× faster (`--speed 30`, GREENRACE_G5K_TIME_SCALE=30), Ctrl-C
 * sent as a real SIGINT. Duplicates, a lost state folder, a 60 s outage while the job waits, the
 * server's clock 10 min ahead, an OAR refusal, Ctrl-C while waiting and while deploying, a wrong
 * password, a node that stays KO. Afterwards no job or deployment greenrace created is left live, and
 * the jobs it did not create (another user's, duplicates made by hand) are untouched.
 * Needs a built dist/ (`npm run build`); no root, no hosts (every scenario ends before SSH).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { G5kDouble } from '../support/g5k-double/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const USER = 'jdoe';
const PASSWORD = 'scn-Pw-9z!never-shown';
const SPEED = 30;
const LIVE = ['waiting', 'hold', 'launching', 'running', 'suspended', 'resuming'];

interface Run {
  code: number | null;
  out: string;
}

describe("Grid'5000 scenarios (built CLI, API double, clocks 30x)", () => {
  /** The double of the current scenario: each gets its own, its clock started with the scenario. */
  let d: G5kDouble;
  const doubles: G5kDouble[] = [];
  let work: string;
  let cred: string;
  /** Jobs greenrace did not create (per double): they must come out untouched. */
  const foreign = new Map<G5kDouble, number[]>();

  const fresh = async (opts: { aheadSeconds?: number } = {}): Promise<G5kDouble> => {
    d = new G5kDouble({
      users: { [USER]: PASSWORD, bob: 'bob-pw' },
      speed: SPEED,
      start: Date.now() / 1000 + (opts.aheadSeconds ?? 0),
      jobWaitSeconds: 30,
      jobLaunchSeconds: 10,
      deployWaitSeconds: 5,
      deployProcessSeconds: 60,
    });
    await d.start();
    doubles.push(d);
    foreign.set(d, []);
    return d;
  };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/entrypoint.js'))) throw new Error('build first: npm run build');
    work = mkdtempSync(join(tmpdir(), 'g5k-scn-'));
    mkdirSync(join(work, 'experiments'));
    mkdirSync(join(work, 'home'), { mode: 0o700 });
    cred = join(work, 'creds.yaml');
    writeFileSync(cred, `username: ${USER}\npassword: "${PASSWORD}"\n`);
    chmodSync(cred, 0o600);
    writeFileSync(join(work, 'id.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIScenarioKeyForTheDouble00000000000000 scn\n');
  });

  afterAll(async () => {
    for (const x of doubles) await x.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const experimentFile = (name: string, g5k: Record<string, unknown> = {}, roles = '{ control: 1, broker: 1, worker: 1 }'): void => {
    const keys = { cluster: 'paravance', api_url: d.url, public_key: join(work, 'id.pub'), walltime: '10:00:00', ...g5k };
    const body = Object.entries(keys)
      .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
      .join('\n');
    writeFileSync(join(work, 'experiments', `${name}.yaml`), `roles: ${roles}\nplatform:\n  kind: g5k\n  g5k:\n${body}\n`);
  };

  /** Run the CLI; `onLine` sees every output line as it comes (and may send SIGINT). */
  const cli = (args: string[], opts: { password?: string; onLine?: (line: string, interrupt: () => void) => void } = {}): Promise<Run> => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: join(work, 'home'),
      GREENRACE_HOME: work,
      GREENRACE_G5K_INSIDE: '0',
      GREENRACE_G5K_TIME_SCALE: String(SPEED),
      GREENRACE_G5K_CREDENTIALS: cred,
      NO_COLOR: '1',
    };
    delete env.GRID5000_USERNAME;
    delete env.GRID5000_PASSWORD;
    delete env.GREENRACE_STATE_DIR;
    if (opts.password) {
      env.GRID5000_USERNAME = USER;
      env.GRID5000_PASSWORD = opts.password;
    }
    return new Promise((resolve, reject) => {
      const child = spawn('node', [join(ROOT, 'dist/entrypoint.js'), ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let partial = '';
      let interrupted = false;
      const interrupt = (): void => {
        if (!interrupted) child.kill('SIGINT');
        interrupted = true;
      };
      const onData = (b: Buffer): void => {
        out += b.toString();
        partial += b.toString();
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) opts.onLine?.(l, interrupt);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
  };

  const jobsNamed = (name: string) => d.jobs.filter((j) => j.name === name);
  const isLive = (uid: number): boolean => LIVE.includes(d.jobState(d.jobs.find((j) => j.uid === uid)!));
  const stateOf = (exp: string): string => join(work, '.greenrace', exp);

  it('duplicates: two live jobs of that name are named, neither is deleted, nothing is left behind', async () => {
    await fresh();
    experimentFile('scdup');
    const a = d.seedJob({ site: 'rennes', name: 'greenrace-scdup', user: USER, cluster: 'paravance' });
    const b = d.seedJob({ site: 'rennes', name: 'greenrace-scdup', user: USER, cluster: 'paravance', state: 'waiting' });
    const bobs = d.seedJob({ site: 'rennes', name: 'greenrace-scdup', user: 'bob', cluster: 'paravance' });
    foreign.get(d)!.push(a, b, bobs);
    const r = await cli(['setup', 'scdup']);
    expect(r.code).toBe(3);
    expect(r.out).toContain(`2 live jobs of ${USER} named greenrace-scdup at rennes`);
    expect(r.out).toMatch(new RegExp(`oardel (${a} ${b}|${b} ${a})`));
    expect(r.out).not.toMatch(/could not undo/);
    expect([isLive(a), isLive(b), isLive(bobs)]).toEqual([true, true, true]);
    expect(existsSync(stateOf('scdup'))).toBe(false);
  });

  it('an OAR refusal: OAR\'s words and what was asked, exit 3, nothing left', async () => {
    await fresh();
    experimentFile('screfuse', {}, '{ control: 1, broker: 40, worker: 1 }');
    const r = await cli(['setup', 'screfuse']);
    expect(r.code).toBe(3);
    expect(r.out).toContain('OAR refused the job at rennes: There are not enough resources for your request');
    expect(r.out).toContain("resources: {cluster='paravance'}/nodes=42,walltime=10:00:00");
    expect(r.out).not.toMatch(/Request to|oarapi|OAR_JOB_ID/);
    expect(jobsNamed('greenrace-screfuse')).toEqual([]);
    expect(existsSync(stateOf('screfuse'))).toBe(false);
  });

  it('a wrong password: one 401 message, no "could not undo", no job, no state folder, the password nowhere', async () => {
    await fresh();
    experimentFile('scpw');
    const r = await cli(['setup', 'scpw'], { password: 'wrong-' + PASSWORD });
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/refused the credentials \(401, user jdoe\)/);
    expect(r.out).not.toMatch(/could not undo|internal error/);
    expect(r.out).not.toContain(PASSWORD);
    expect(jobsNamed('greenrace-scpw')).toEqual([]);
    expect(existsSync(stateOf('scpw'))).toBe(false);
  });

  it('Ctrl-C while the job waits: the job is kept and named; setup reattaches to it; killjob deletes it', async () => {
    await fresh();
    experimentFile('scwait');
    d.faults.jobWaitSeconds = 3600;
    const r = await cli(['setup', 'scwait'], { onLine: (l, stop) => /: waiting, scheduled start/.test(l) && stop() });
    delete d.faults.jobWaitSeconds;
    const [job] = jobsNamed('greenrace-scwait');
    expect(r.code).toBe(130);
    expect(r.out).toContain(`job ${job!.uid} at rennes is kept: \`entrypoint setup scwait\` reattaches to it, \`entrypoint killjob scwait\` deletes it`);
    expect(isLive(job!.uid)).toBe(true);
    const posts = d.count('POST /sites/{site}/jobs');
    const again = await cli(['setup', 'scwait'], { onLine: (l, stop) => /: waiting, scheduled start/.test(l) && stop() });
    expect(again.out).toContain(`reattached to job ${job!.uid} (greenrace-scwait) at rennes`);
    expect(d.count('POST /sites/{site}/jobs')).toBe(posts);
    const k = await cli(['killjob', 'scwait']);
    expect(k.code).toBe(0);
    expect(k.out).toContain(`g5k: deleted job ${job!.uid} at rennes`);
    expect(isLive(job!.uid)).toBe(false);
  });

  it('Ctrl-C while deploying cancels the deployment and keeps the job; with the state folder lost, killjob finds the job by name', async () => {
    await fresh();
    experimentFile('scdeploy');
    const r = await cli(['setup', 'scdeploy'], { onLine: (l, stop) => /^deploying debian12-min/.test(l) && stop() });
    const [job] = jobsNamed('greenrace-scdeploy');
    const dep = d.deployments.find((x) => x.nodes.some((n) => job!.nodes.includes(n)))!;
    expect(r.code).toBe(130);
    expect(r.out).toContain(`cancelled deployment ${dep.uid} at rennes`);
    expect(r.out).toContain(`job ${job!.uid} at rennes kept`);
    expect(dep.canceled_at).toBeDefined();
    expect(isLive(job!.uid)).toBe(true);
    // the state folder is lost
    rmSync(stateOf('scdeploy'), { recursive: true, force: true });
    const k = await cli(['killjob', 'scdeploy']);
    expect(k.code).toBe(0);
    expect(k.out).toContain(`g5k: found job ${job!.uid} (running) of ${USER} named greenrace-scdeploy at rennes; deleting it`);
    expect(isLive(job!.uid)).toBe(false);
  });

  it('a 60 s outage while the job waits: setup says the API is unreachable, keeps waiting, and goes on', async () => {
    await fresh();
    experimentFile('scoutage');
    let outageFrom = 0;
    // the job starts 30 s after its submission; the API is gone for the 60 s after the submission
    const r = await cli(['setup', 'scoutage'], {
      onLine: (l, stop) => {
        if (/^submitted job/.test(l)) {
          outageFrom = d.clock.now();
          d.faults.outage = { until: outageFrom + 60 };
        }
        if (/^deploying debian12-min/.test(l)) stop();
      },
    });
    const [job] = jobsNamed('greenrace-scoutage');
    expect(outageFrom).toBeGreaterThan(0);
    expect(r.out).toMatch(/Grid'5000 API unreachable since .*; job \d+ at rennes is kept, asking again in/);
    expect(r.out).toContain("Grid'5000 API answers again");
    expect(r.out).toContain('deploying debian12-min');
    expect(r.code).toBe(130);
    expect(d.count('DELETE /sites/{site}/jobs/{id}')).toBe(0);
    const k = await cli(['killjob', 'scoutage']);
    expect(k.out).toContain(`g5k: deleted job ${job!.uid} at rennes`);
  });

  it("the server's clock 10 min ahead: the wait follows the server's clock (\"in 1 min\", not \"in 11 min\")", async () => {
    await fresh({ aheadSeconds: 600 });
    experimentFile('scclock');
    const r = await cli(['setup', 'scclock'], { onLine: (l, stop) => /^deploying debian12-min/.test(l) && stop() });
    const note = /waiting, scheduled start .* \(in ([^)]+)\)/.exec(r.out)?.[1];
    expect(note).toMatch(/^(\d+ s|1 min)$/);
    const [job] = jobsNamed('greenrace-scclock');
    // reached the deployment: the job was seen running within a couple of polls of its start
    expect(r.out).toContain('deploying debian12-min');
    const k = await cli(['killjob', 'scclock']);
    expect(k.out).toContain(`g5k: deleted job ${job!.uid} at rennes`);
  });

  it('a node that stays KO: named after 3 attempts, the job this setup made is given back', async () => {
    await fresh();
    experimentFile('scko', { deploy: true });
    d.faults.deployFailures = Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((i) => [`paravance-${i}`, 3]));
    const r = await cli(['setup', 'scko']);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/debian12-min could not be deployed on .*paravance-\d.* after 3 attempts/);
    const [job] = jobsNamed('greenrace-scko');
    expect(isLive(job!.uid)).toBe(false);
    expect(existsSync(stateOf('scko'))).toBe(false);
  });

  it('afterwards: no live job or deployment greenrace created; the others untouched', () => {
    let ours = 0;
    for (const x of doubles) {
      const theirs = foreign.get(x)!;
      const live = (uid: number): boolean => LIVE.includes(x.jobState(x.jobs.find((j) => j.uid === uid)!));
      const made = x.jobs.filter((j) => !theirs.includes(j.uid));
      ours += made.length;
      expect(made.filter((j) => live(j.uid)).map((j) => `${j.uid} ${j.name}`)).toEqual([]);
      const inFlight = x.deployments.filter((dep) => dep.canceled_at === undefined && x.clock.now() < dep.created_at + 5 + 60);
      expect(inFlight.map((dep) => dep.uid)).toEqual([]);
      expect(theirs.map(live)).toEqual(theirs.map(() => true));
    }
    expect(ours).toBeGreaterThanOrEqual(5);
  });
});
