/**
 * A real local cluster for tests: `clusterUp(name)` brings up namespace hosts through the local
 * platform (needs root), `down()` releases them, `leftovers()` lists anything of the experiment that
 * survived. Use experiment names your area owns, so helpers running at once never share a cluster.
 *
 * Also a CLI (handy by hand and as a child process to interrupt):
 *   npx tsx test/support/cluster.ts up <name> [--workers N] [--brokers N] [--controls N] [--state DIR]
 *   npx tsx test/support/cluster.ts down <name> [--state DIR]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { experimentSchema, type Experiment } from '../../src/experiment/schema.js';
import type { RoleSizes } from '../../src/core/types.js';
import { platformFor } from '../../src/platforms/index.js';
import type { PlatformHandle } from '../../src/platforms/platform.js';
import type { LocalHandleData } from '../../src/platforms/local/handle.js';
import { readIntent } from '../../src/platforms/local/intent.js';
import { REGISTRY_DIR, claimsOf } from '../../src/platforms/local/claims.js';

export interface TestCluster {
  name: string;
  stateDir: string;
  experiment: Experiment;
  handle: PlatformHandle;
  data: LocalHandleData;
  /** Run a command on a host over real SSH (the platform's key and known_hosts); returns stdout. */
  ssh(host: string, command: string): Promise<string>;
  down(): Promise<void>;
}

export interface UpOptions {
  roles?: Partial<RoleSizes>;
  stateDir?: string;
  subnet?: string;
  progress?: (line: string) => void;
}

/** Fail loudly (never skip) when the suite is not run as root. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('these integration tests need root (network namespaces, bridge, sshd): run them as root, e.g. in .ci/run');
  }
}

export const testStateDir = (name: string): string => join(tmpdir(), 'greenrace-test', name);

export function experimentFor(name: string, opts: UpOptions = {}): Experiment {
  return experimentSchema.parse({
    name,
    platform: { kind: 'local', ...(opts.subnet ? { local: { subnet: opts.subnet } } : {}) },
    roles: { control: 1, broker: 1, worker: 3, ...opts.roles },
  });
}

export function sshArgs(data: Pick<LocalHandleData, 'sshDir' | 'knownHosts'>, address: string): string[] {
  return [
    '-F', '/dev/null',
    '-i', join(data.sshDir, 'id_ed25519'),
    '-o', `UserKnownHostsFile=${data.knownHosts}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=3',
    `root@${address}`,
  ];
}

/** Reserve (or converge, with `previous`) a local cluster. Without root it fails with the platform's own error. */
export async function clusterUp(name: string, opts: UpOptions = {}, previous?: PlatformHandle): Promise<TestCluster> {
  const experiment = experimentFor(name, opts);
  const stateDir = resolve(opts.stateDir ?? testStateDir(name));
  const platform = await platformFor('local');
  const handle = await platform.reserve(
    { experiment, roles: experiment.roles, stateDir, ...(opts.progress ? { progress: opts.progress } : {}) },
    previous,
  );
  const data = handle.data as unknown as LocalHandleData;
  return {
    name,
    stateDir,
    experiment,
    handle,
    data,
    async ssh(host, command) {
      const h = handle.hosts.find((x) => x.name === host);
      if (!h) throw new Error(`no host ${host} in ${name}`);
      const r = await execa('ssh', [...sshArgs(data, h.address), command], { timeout: 20_000 });
      return r.stdout;
    },
    down: async () => void (await platform.release(stateDir, handle)),
  };
}

/** Release whatever the state dir holds (handle-less: from the intent file and claims). */
export async function clusterDown(name: string, stateDir = testStateDir(name), progress?: (l: string) => void): Promise<void> {
  const platform = await platformFor('local');
  await platform.release(resolve(stateDir), undefined, progress);
}

export interface Leftovers {
  namespaces: string[];
  links: string[];
  netnsEtc: string[];
  processes: string[];
  controlSockets: string[];
  claims: string[];
}

/** Everything of a local experiment (by its tag and state dir) still on this machine. */
export async function leftovers(tag: string, stateDir: string): Promise<Leftovers> {
  const nsOut = (await execa('ip', ['-j', 'netns', 'list'])).stdout.trim();
  const namespaces = (JSON.parse(nsOut || '[]') as Array<{ name: string }>).map((n) => n.name).filter((n) => n.startsWith(`${tag}-`));
  const links = (JSON.parse((await execa('ip', ['-j', 'link', 'show'])).stdout || '[]') as Array<{ ifname: string }>)
    .map((l) => l.ifname)
    .filter((l) => l.startsWith(tag));
  const netnsEtc = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith(`${tag}-`)) : [];
  const processes: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && cmd.includes(stateDir + '/')) processes.push(`${p}: ${cmd.trim()}`);
    } catch {
      // gone
    }
  }
  const cp = join(stateDir, 'cp');
  const controlSockets = existsSync(cp) ? readdirSync(cp).map((f) => join(cp, f)) : [];
  const claims = claimsOf(stateDir).map((c) => c.file);
  return { namespaces, links, netnsEtc, processes, controlSockets, claims };
}

/** The tag a state dir's reservation uses (from its intent file), if any. */
export function tagOf(stateDir: string): string | undefined {
  return readIntent(resolve(stateDir))?.allocation.tag;
}

export { REGISTRY_DIR };

async function cli(argv: string[]): Promise<void> {
  const [cmd, name, ...rest] = argv;
  const opt = (flag: string): string | undefined => {
    const i = rest.indexOf(flag);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  if (!name || (cmd !== 'up' && cmd !== 'down')) {
    console.error('usage: cluster.ts up|down <name> [--workers N] [--brokers N] [--controls N] [--state DIR]');
    process.exit(2);
  }
  const stateDir = opt('--state') ?? testStateDir(name);
  const log = (l: string): void => console.log(l);
  if (cmd === 'down') {
    await clusterDown(name, stateDir, log);
    return;
  }
  const roles: Partial<RoleSizes> = {};
  if (opt('--workers')) roles.worker = Number(opt('--workers'));
  if (opt('--brokers')) roles.broker = Number(opt('--brokers'));
  if (opt('--controls')) roles.control = Number(opt('--controls'));
  const c = await clusterUp(name, { roles, stateDir, progress: log });
  for (const h of c.handle.hosts) console.log(`${h.name} ${h.address} ${h.roles.join(',')}`);
  console.log(`ssh ${sshArgs(c.data, '<address>').join(' ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  cli(process.argv.slice(2)).catch((e: unknown) => {
    const err = e as { code?: string; message?: string; details?: string[] };
    console.error(`error ${err.code ?? ''}: ${err.message ?? String(e)}`);
    for (const d of err.details ?? []) console.error('  ' + d);
    process.exit(3);
  });
}
