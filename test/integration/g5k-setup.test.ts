/**
 * `setup --platform g5k` end to end, as a user runs it here: the built CLI talks to the Grid'5000 API
 * double (in this process, clock 20× faster), whose nodes are mapped (`address_map`) onto local
 * namespace hosts. Reservation, deployment (one node KO twice), waiting for SSH, the inventory and
 * the real setup playbook (facts, metadata) all run; then status, a reattaching setup and killjob.
 * Needs root and a built dist/ (`npx tsc -p tsconfig.json`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTERS, G5kDouble } from '../support/g5k-double/index.js';
import { clusterUp, requireRoot, type TestCluster } from '../support/cluster.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const PASSWORD = 'e2e-Pw-4q!must-never-be-written';
const EXP = 'g5ke2e';
const SPEED = 20;

/** Every file under `dir` whose content contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return hits;
}

describe('setup --platform g5k end to end (built CLI, API double mapped onto namespace hosts)', () => {
  let d: G5kDouble;
  let hosts: TestCluster | undefined;
  let work: string;
  let home: string;
  let expFile: string;
  let stateDir: string;
  const outputs: string[] = [];
  /** node fqdn → namespace host address and name */
  const mapped = new Map<string, { address: string; hostname: string }>();

  const cli = async (args: string[]): Promise<{ code: number; out: string; stdout: string }> => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, GREENRACE_HOME: work, GREENRACE_G5K_INSIDE: '0', GREENRACE_G5K_TIME_SCALE: String(SPEED), NO_COLOR: '1' };
    delete env.GRID5000_USERNAME;
    delete env.GRID5000_PASSWORD;
    delete env.GREENRACE_G5K_CREDENTIALS;
    delete env.GREENRACE_STATE_DIR;
    const r = await run('node', [join(ROOT, 'dist/entrypoint.js'), ...args], { cwd: work, env, timeout: 240_000, maxBuffer: 16 << 20 }).then(
      (x) => ({ code: 0, out: x.stdout + x.stderr, stdout: x.stdout }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}`, stdout: e.stdout }),
    );
    outputs.push(r.out);
    return r;
  };

  beforeAll(async () => {
    requireRoot();
    if (!existsSync(join(ROOT, 'dist/entrypoint.js'))) throw new Error('build first: npx tsc -p tsconfig.json');
    work = mkdtempSync(join(tmpdir(), 'g5k-e2e-'));
    home = join(work, 'home');
    mkdirSync(home, { mode: 0o700 });
    const cred = join(home, '.python-grid5000.yaml');
    writeFileSync(cred, `username: jdoe\npassword: "${PASSWORD}"\n`, { mode: 0o600 });
    stateDir = join(work, '.greenrace', EXP);

    // Three namespace hosts through the local platform (its own subnet claim, torn down in afterAll).
    hosts = await clusterUp('g5ke2ehosts', { roles: { control: 1, broker: 1, worker: 1 }, stateDir: join(work, 'hosts') });
    const clusters = DEFAULT_CLUSTERS.map((c) => ({ ...c, ...(c.uid === 'paravance' ? { nodes: hosts!.handle.hosts.length } : {}) }));
    d = new G5kDouble({ users: { jdoe: PASSWORD }, speed: SPEED, clusters, jobWaitSeconds: 30, deployWaitSeconds: 5, deployProcessSeconds: 20 });
    await d.start();
    d.faults.deployFailures = { 'paravance-2': 2 };
    const paravance = clusters.find((c) => c.uid === 'paravance')!;
    d.nodeFqdns(paravance).forEach((fq, i) => mapped.set(fq, { address: hosts!.handle.hosts[i]!.address, hostname: hosts!.handle.hosts[i]!.name }));

    expFile = join(work, `${EXP}.yaml`);
    writeFileSync(
      expFile,
      [
        'roles: { control: 1, broker: 1, worker: 1 }',
        'services: []',
        'platform:',
        '  g5k:',
        `    api_url: ${d.url}`,
        '    walltime: "10:00:00"',
        `    public_key: ${join(hosts.data.sshDir, 'id_ed25519.pub')}`,
        '    shared_filesystem: true',
        '    address_map:',
        ...[...mapped].map(([fq, m]) => `      ${fq}: ${m.address}`),
        '',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    if (work && existsSync(stateDir)) await cli(['killjob', EXP]);
    await d?.stop();
    await hosts?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('setup reserves, deploys (a node KO twice, then OK), waits for SSH and runs the setup playbook on the mapped hosts', async () => {
    const r = await cli(['setup', expFile, '--platform', 'g5k', '--cluster', 'paravance']);
    expect(r.out).toContain(`${EXP} is set up`);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/submitted job \d+ \(greenrace-g5ke2e\) at rennes/);
    expect(r.out).toContain('KO: paravance-2');
    expect(r.out).toContain('(attempt 3/3)');
    // One job; three deployments: all nodes, then paravance-2 twice.
    expect(d.count('POST /sites/{site}/jobs')).toBe(1);
    expect(d.jobs[0]!.resources).toBe("{cluster='paravance'}/nodes=3,walltime=10:00:00");
    expect(d.jobs[0]!.types).toEqual(['deploy']);
    expect(d.deployments.map((x) => x.nodes.length)).toEqual([3, 1, 1]);
    expect(d.deployments.slice(1).map((x) => x.nodes[0])).toEqual(['paravance-2.rennes.grid5000.fr', 'paravance-2.rennes.grid5000.fr']);
    expect(d.deployments[0]!.key).toBe(readFileSync(join(hosts!.data.sshDir, 'id_ed25519.pub'), 'utf8').trim());

    // The inventory: the mapped addresses, root, no gateway jump, the node's Grid'5000 name.
    const inv = readFileSync(join(stateDir, 'inventory.yaml'), 'utf8');
    for (const [fq, m] of mapped) {
      expect(inv).toContain(`ansible_host: ${m.address}`);
      expect(inv).toContain(`g5k_fqdn: ${fq}`);
    }
    expect(inv).not.toContain('ProxyJump');
    expect(inv).toContain('ansible_user: root');

    // Facts came from the namespace hosts behind the mapping (their hostnames), one metadata file per node.
    for (const [fq, m] of mapped) {
      const name = fq.split('.')[0]!;
      const meta = JSON.parse(readFileSync(join(stateDir, 'metadata', `${name}.json`), 'utf8')) as { hostname: string };
      expect(meta.hostname).toBe(m.hostname);
      expect(r.stdout).toMatch(new RegExp(`${name}\\s+${m.address.replace(/\./g, '\\.')}\\s+${m.hostname}`));
    }
    const g5kState = JSON.parse(readFileSync(join(stateDir, 'g5k.json'), 'utf8')) as { jobs: { uid: number }[]; direct: string[] };
    expect(g5kState.jobs).toEqual([{ site: 'rennes', uid: d.jobs[0]!.uid }]);
    expect(g5kState.direct.sort()).toEqual(['paravance-1', 'paravance-2', 'paravance-3']);
  }, 300_000);

  it('status shows the job running and every node answering over SSH', async () => {
    const gets = d.count('GET /sites/{site}/jobs/{id}');
    const r = await cli(['status', EXP, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { phase: string; hosts: { name: string; address: string; reachable: boolean; metadata?: { hostname: string } }[] };
    expect(s.phase).toBe('ready');
    expect(s.hosts.map((h) => [h.name, h.address, h.reachable, h.metadata?.hostname])).toEqual(
      [...mapped].map(([fq, m]) => [fq.split('.')[0], m.address, true, m.hostname]),
    );
    // Status asked the API for the job (and found it running).
    expect(d.count('GET /sites/{site}/jobs/{id}')).toBe(gets + 1);
  }, 120_000);

  it('a second setup (--cluster alone selects g5k) reattaches: no second job, no redeployment', async () => {
    const r = await cli(['setup', expFile, '--cluster', 'paravance']);
    expect(r.out).toContain('(same hosts as before)');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`reattached to job ${d.jobs[0]!.uid}`));
    expect(r.out).toContain('already deployed, skipped: paravance-1, paravance-2, paravance-3');
    expect(d.count('POST /sites/{site}/jobs')).toBe(1);
    expect(d.jobs).toHaveLength(1);
    expect(d.deployments).toHaveLength(3);
  }, 300_000);

  it('no output and no file under the state folder contains the password; the credentials file stays 0600', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(3);
    for (const o of outputs) expect(o).not.toContain(PASSWORD);
    expect(filesContaining(stateDir, PASSWORD)).toEqual([]);
    expect(readdirSync(join(stateDir, 'logs')).length).toBeGreaterThan(0);
    expect(d.requestLog.some((l) => l.includes(PASSWORD))).toBe(false);
    expect(statSync(join(home, '.python-grid5000.yaml')).mode & 0o777).toBe(0o600);
  });

  it('killjob deletes the job at the double and clears the state', async () => {
    const uid = d.jobs[0]!.uid;
    const r = await cli(['killjob', EXP]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`deleted job ${uid} at rennes`);
    expect(r.out).not.toContain(PASSWORD);
    expect(d.count('DELETE /sites/{site}/jobs/{id}')).toBe(1);
    expect(d.jobState(d.jobs[0]!)).toBe('terminated');
    expect(existsSync(stateDir)).toBe(false);
    // The namespace hosts behind the mapping are untouched (the g5k platform gives back the job only).
    expect(await hosts!.ssh('control-1', 'hostname')).toBe('control-1');
  }, 120_000);
});
