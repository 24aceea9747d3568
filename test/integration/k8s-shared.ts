/**
 * One Kubernetes cluster for all the k8s integration files of a run (CI keeps the whole suite under
 * 60 min: bringing a cluster up takes minutes on 2 cores).
 *
 * - `sharedCluster()` (in a file's beforeAll) gives the run's cluster: the first k8s file to ask
 *   brings it up with `entrypoint setup` (1 control + 3 workers on namespace hosts, runtime k3s,
 *   upstream), records it in a file under the run's temporary folder, and later files reuse it.
 * - k8s-global-setup.ts (the integration project's globalSetup) makes that folder for the run and,
 *   at the end of the run whatever happened, brings the cluster down (`killjob`) and checks that
 *   nothing of it is left (namespaces, links, processes, mounts, cgroups, folders).
 * - k8s-sequencer.ts runs the k8s files after all the others (an idle cluster does not perturb the
 *   latency-measuring files) and k8s-cluster.test.ts last of them: it asserts destroy + killjob on
 *   the shared cluster and marks it released with `markReleased()`.
 * - A file run alone (`npx vitest run test/integration/k8s-workloads.test.ts`) goes through the same
 *   global setup: it brings the cluster up and the teardown brings it down. Without the global setup
 *   (another config), `sharedCluster()` brings up a cluster for the file and `releaseOwn()` (in its
 *   afterAll) brings it down.
 * - GREENRACE_TEST_K8S_STATE=<state folder of a set-up experiment with runtime k3s> uses that cluster
 *   instead and never brings it down.
 *
 * Tests on the shared cluster keep to their own namespace and delete what they create.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { inject } from 'vitest';
import { leftovers, requireRoot, type Leftovers } from '../support/cluster.js';
import { k8sInstall, k8sLeftovers, type K8sLeftovers } from './k8s-support.js';
import { cli, homeAt, makeHome, type Home } from './setup-support.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The file recording the run's shared cluster ('' when the global setup did not run). */
    k8sSharedRecord: string;
  }
}

export const SHARED_EXP = 'k8s-shared-it';
export const SHARED_EXPERIMENT = [
  'description: the Kubernetes cluster the k8s integration files share',
  'platform: {kind: local}',
  'roles: {control: 1, broker: 0, worker: 3}',
  'runtime: k3s',
  'services: []',
  '',
].join('\n');

export interface SharedRecord {
  home: string;
  exp: string;
  /** The test file that brought it up. */
  createdBy: string;
  setup: { exitCode: number; seconds: number; tail: string };
  /** Set by the file that brought it down itself (k8s-cluster.test.ts asserts destroy and killjob). */
  released?: boolean;
  /** A cluster given by GREENRACE_TEST_K8S_STATE: never brought down here. */
  external?: boolean;
}

export interface SharedCluster {
  home: Home;
  exp: string;
  stateDir: string;
  kubeconfig: string;
  /** The local platform's tag (names of its namespaces, links, folders). */
  tag: string;
  hosts: Array<{ name: string; address: string; roles: string[] }>;
  /** How `entrypoint setup` went when the cluster came up (maybe in another file). */
  setup: SharedRecord['setup'];
  createdBy: string;
  /** This file brought it up and no global setup will bring it down: releaseOwn() does. */
  own: boolean;
  external: boolean;
}

const recordFile = (): string => {
  try {
    return inject('k8sSharedRecord') ?? '';
  } catch {
    return '';
  }
};

const readRecord = (file: string): SharedRecord | undefined => (file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SharedRecord) : undefined);
const writeRecord = (file: string, r: SharedRecord): void => writeFileSync(file, JSON.stringify(r, null, 2));

let mine: SharedCluster | undefined;

function view(r: SharedRecord, own: boolean): SharedCluster {
  const home = homeAt(r.home);
  const stateDir = home.stateDir(r.exp);
  const st = home.state(r.exp);
  return {
    home,
    exp: r.exp,
    stateDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    tag: st.platform.data.tag,
    hosts: st.platform.hosts,
    setup: r.setup,
    createdBy: r.createdBy,
    own,
    external: Boolean(r.external),
  };
}

/**
 * The run's cluster, brought up by the first file that asks. Throws (a clear error, never a skip)
 * when it cannot come up, with setup's last lines; a later file gets the same error at once instead
 * of trying again.
 */
export async function sharedCluster(file: string): Promise<SharedCluster> {
  requireRoot();
  k8sInstall();
  const external = process.env.GREENRACE_TEST_K8S_STATE;
  if (external) {
    const stateDir = external.replace(/\/+$/, '');
    const r: SharedRecord = { home: dirname(dirname(stateDir)), exp: basename(stateDir), createdBy: 'GREENRACE_TEST_K8S_STATE', setup: { exitCode: 0, seconds: 0, tail: '' }, external: true };
    return view(r, false);
  }
  const rf = recordFile();
  const known = readRecord(rf);
  if (known && !known.released) {
    if (known.setup.exitCode !== 0) throw new Error(`the shared cluster did not come up (setup exit ${known.setup.exitCode}, in ${known.createdBy}):\n${known.setup.tail}`);
    return view(known, false);
  }
  if (mine) return mine;
  const home = makeHome('gr-k8s-shared-');
  home.write(SHARED_EXP, SHARED_EXPERIMENT);
  const r: SharedRecord = { home: home.dir, exp: SHARED_EXP, createdBy: basename(file), setup: { exitCode: -1, seconds: 0, tail: '' } };
  // Recorded before setup: the teardown brings the hosts down even when setup fails half-way.
  if (rf) writeRecord(rf, r);
  const t0 = Date.now();
  const out = await cli(home, ['setup', SHARED_EXP], { timeout: 1_500_000 });
  r.setup = { exitCode: out.exitCode ?? 1, seconds: Math.round((Date.now() - t0) / 1000), tail: out.all.split('\n').slice(-60).join('\n') };
  if (rf) writeRecord(rf, r);
  process.stderr.write(`[k8s-shared] ${SHARED_EXP} brought up by ${r.createdBy}: setup exit ${r.setup.exitCode} in ${r.setup.seconds} s\n`);
  if (!rf) mine = view(r, true);
  if (r.setup.exitCode !== 0) throw new Error(`the shared cluster did not come up (setup exit ${r.setup.exitCode}):\n${r.setup.tail}`);
  return rf ? view(r, false) : mine!;
}

/** A file that brought the cluster down itself (destroy + killjob asserted) says so: later files bring up a new one. */
export function markReleased(c: SharedCluster): void {
  const rf = recordFile();
  const r = readRecord(rf);
  if (r && r.home === c.home.dir) writeRecord(rf, { ...r, released: true });
  if (mine && mine.home.dir === c.home.dir) mine = undefined;
}

export interface ClusterRemains {
  k8s: K8sLeftovers;
  platform: Leftovers;
}

/** What of the cluster is still on this machine (empty lists when nothing). */
export async function remains(home: string, exp: string, tag: string): Promise<ClusterRemains> {
  const stateDir = homeAt(home).stateDir(exp);
  return { k8s: k8sLeftovers(tag, stateDir), platform: await leftovers(tag, stateDir) };
}

export const nothingLeft = (r: ClusterRemains): boolean => [...Object.values(r.k8s), ...Object.values(r.platform)].every((l) => l.length === 0);

/**
 * Bring a recorded cluster down: `killjob` (the cluster, then the hosts) unless it was released
 * already, then what is left of it. Throws naming what killjob said or what remains.
 */
export async function bringDown(r: SharedRecord): Promise<void> {
  if (r.external) return;
  const home = homeAt(r.home);
  const stateDir = home.stateDir(r.exp);
  let tag: string | undefined;
  try {
    tag = home.state(r.exp).platform.data.tag;
  } catch {
    // no state: setup never got as far as reserving hosts
  }
  const problems: string[] = [];
  let said = '';
  if (!r.released && existsSync(stateDir)) {
    const kj = await cli(home, ['killjob', r.exp], { timeout: 900_000 });
    said = kj.all.split('\n').slice(-30).join('\n');
    if (kj.exitCode !== 0) problems.push(`killjob ${r.exp} exited ${kj.exitCode}:\n${said}`);
  }
  if (tag) {
    const left = await remains(r.home, r.exp, tag);
    if (!nothingLeft(left)) problems.push(`left behind by ${r.exp} (tag ${tag}): ${JSON.stringify(left)}${said ? `\nkilljob said:\n${said}` : ''}`);
  }
  if (problems.length) throw new Error(`the shared Kubernetes cluster (${r.home}):\n${problems.join('\n')}`);
  rmSync(r.home, { recursive: true, force: true });
}

/** In a file's afterAll: bring down a cluster this file brought up without a global setup. */
export async function releaseOwn(c: SharedCluster | undefined): Promise<void> {
  if (!c?.own || !mine || mine.home.dir !== c.home.dir) return;
  mine = undefined;
  await bringDown({ home: c.home.dir, exp: c.exp, createdBy: c.createdBy, setup: c.setup });
}
