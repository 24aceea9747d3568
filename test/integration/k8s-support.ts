/**
 * Helpers for the Kubernetes integration tests: the build of setup/install-k8s.sh, kubectl with an
 * experiment's kubeconfig, the cluster playbook, and the list of what a cluster on namespace hosts
 * may leave behind on this machine.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO } from './setup-support.js';

export const K8S_CACHE = process.env.GREENRACE_K8S_CACHE ?? '/var/cache/greenrace/k8s';

export interface K8sInstall {
  kubernetes_version: string;
  bin_dir: string;
  images: Record<string, { ref: string; digest: string; size: number }>;
}

/** What setup/install-k8s.sh built; a clear error (never a skip) when it has not run. */
export function k8sInstall(): K8sInstall {
  const f = join(K8S_CACHE, 'install.json');
  if (!existsSync(f)) throw new Error(`${f} is missing: build Kubernetes first with setup/install.sh --k8s`);
  return JSON.parse(readFileSync(f, 'utf8')) as K8sInstall;
}

export function kubectl(kubeconfig: string, args: string[], opts: { input?: string; timeout?: number } = {}) {
  return execa(join(k8sInstall().bin_dir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    reject: false,
    all: true,
    timeout: opts.timeout ?? 120_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}

/** ansible-playbook playbooks/kubernetes.yml with the experiment's own ansible.cfg and inventory. */
export function clusterPlaybook(stateDir: string, extraVars: Record<string, unknown>) {
  return execa('ansible-playbook', [join(REPO, 'ansible', 'playbooks', 'kubernetes.yml'), '-e', JSON.stringify(extraVars)], {
    cwd: join(REPO, 'ansible'),
    env: { ANSIBLE_CONFIG: join(stateDir, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' },
    reject: false,
    all: true,
    timeout: 900_000,
  });
}

/** `host: changed=N` from a PLAY RECAP. */
export function changedPerHost(output: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of output.matchAll(/^(\S+)\s+: ok=\d+\s+changed=(\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

export interface K8sLeftovers {
  processes: string[];
  mounts: string[];
  cgroups: string[];
  folders: string[];
  logLinks: string[];
}

/**
 * What of the cluster of an experiment (local platform tag `tag`, state folder `stateDir`) is still on
 * this machine, seen from the root namespaces: processes naming its folders, mounts and cgroup folders
 * carrying the tag, its runtime and data folders, the kubelet's log links into them.
 */
export function k8sLeftovers(tag: string, stateDir: string): K8sLeftovers {
  // The cluster's own paths: its configuration under <state>/k8s and <state>/hosts/<host>/k8s (not the
  // platform's sshd and SSH masters, which killjob stops), its data and runtime folders, its cgroups.
  const esc = stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const marks = [new RegExp(`${esc}/(k8s|hosts/[^/]+/k8s)/`), `/var/lib/greenrace/k8s/${tag}-`, `/run/greenrace-k8s/${tag}-`, `greenrace-k8s-${tag}-`];
  const hit = (s: string): boolean => marks.some((m) => (typeof m === 'string' ? s.includes(m) : m.test(s)));
  const processes: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && hit(cmd)) processes.push(`${p}: ${cmd.trim()}`);
    } catch {
      // gone
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => hit(mp));
  const cgroups: string[] = [];
  for (const h of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const dir = join('/sys/fs/cgroup', h);
    try {
      for (const c of readdirSync(dir)) if (c.startsWith(`greenrace-k8s-${tag}-`)) cgroups.push(join(dir, c));
    } catch {
      // not a folder
    }
  }
  const folders: string[] = [];
  for (const base of ['/var/lib/greenrace/k8s', '/run/greenrace-k8s']) {
    if (existsSync(base)) for (const d of readdirSync(base)) if (d.startsWith(`${tag}-`)) folders.push(join(base, d));
  }
  const logLinks: string[] = [];
  if (existsSync('/var/log/containers')) {
    for (const f of readdirSync('/var/log/containers')) {
      try {
        if (readlinkSync(join('/var/log/containers', f)).startsWith(`/var/lib/greenrace/k8s/${tag}-`)) logLinks.push(f);
      } catch {
        // not a link
      }
    }
  }
  return { processes, mounts, cgroups, folders, logLinks };
}

/** An experiment with a cluster of its own, set up by `entrypoint setup` (runtime: k3s), for one test file. */
export interface K8sExperiment {
  name: string;
  home: import('./setup-support.js').Home;
  stateDir: string;
  kubeconfig: string;
  /** The local platform's tag (names the cluster's folders, cgroups and processes). */
  tag: string;
  state(): any;
  /** `entrypoint killjob <exp>`: its result and what of the cluster is still on this machine. */
  down(): Promise<{ exitCode: number | undefined; all: string; leftovers: K8sLeftovers }>;
}

/**
 * Bring an experiment up with `entrypoint setup` (runtime k3s, distribution upstream, on the local
 * platform): `body` is the rest of its YAML (roles, services, sections). The one call a k8s test file
 * makes in beforeAll; `down()` in afterAll (and in the test that checks that nothing is left).
 */
export async function k8sExperiment(name: string, body: string, o: { timeout?: number; beforeSetup?: (stateDir: string) => Promise<void> | void } = {}): Promise<K8sExperiment> {
  const { cli, makeHome } = await import('./setup-support.js');
  const home = makeHome(`gr-${name}-`);
  home.write(name, `description: ${name}\nplatform: {kind: local}\nruntime: k3s\nkubernetes: {distribution: upstream}\n${body}`);
  const stateDir = home.stateDir(name);
  await o.beforeSetup?.(stateDir);
  const r = await cli(home, ['setup', name], { timeout: o.timeout ?? 1_500_000 });
  if (r.exitCode !== 0) {
    await cli(home, ['killjob', name], { timeout: 900_000 });
    throw new Error(`setup ${name} failed (exit ${r.exitCode}):\n${r.all.split('\n').slice(-60).join('\n')}`);
  }
  const state = () => home.state(name);
  let downed: Awaited<ReturnType<K8sExperiment['down']>> | undefined;
  return {
    name,
    home,
    stateDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    tag: String(state().platform?.data?.tag ?? ''),
    state,
    async down() {
      if (downed) return downed;
      const tag = String(state().platform?.data?.tag ?? '');
      const k = await cli(home, ['killjob', name], { timeout: 900_000 });
      downed = { exitCode: k.exitCode, all: k.all, leftovers: k8sLeftovers(tag, stateDir) };
      return downed;
    },
  };
}
