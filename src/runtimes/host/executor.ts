/**
 * The `host` runtime's executor: per-run work over the SSH stack (src/remote), connections shared
 * with the experiment's Ansible; tool installs through ansible/playbooks/net-tools.yml on the
 * experiment's inventory.
 */
import { controlPathDir } from '../../ansible/config.js';
import { runPlaybook } from '../../ansible/runner.js';
import { RunError } from '../../core/errors.js';
import type { WorkHost } from '../../core/types.js';
import { execTarget } from '../../remote/exec.js';
import { fetchFile, putFile } from '../../remote/files.js';
import { SshSession } from '../../remote/session.js';
import { targetFromHost, type SshTarget, type TargetDefaults } from '../../remote/target.js';
import type { Executor, InstallReport, RunOptions, RunResult, StartSpec, Started, ToolNeeds } from '../executor.js';
import { startScript, stopScript, waitScript } from './background.js';

export interface HostExecutorOptions {
  /**
   * The experiment's state folder, when the hosts come from `setup`: SSH connections are Ansible's
   * (its control folder) and tools can be installed through its inventory.
   */
  stateDir?: string;
  /** known_hosts for hosts whose options name none (the static platform keeps one in the state). */
  knownHostsFile?: string;
}

/** The folder of a host's background programs when the spec names none. */
export const defaultDir = (host: WorkHost): string => `${host.dataDir.replace(/\/+$/, '')}/net`;

export class HostExecutor implements Executor {
  readonly runtime = 'host';
  readonly canInstall: boolean;
  private readonly session: SshSession;
  private readonly defaults: TargetDefaults;
  private readonly started = new Set<Started>();

  constructor(private readonly opts: HostExecutorOptions = {}) {
    this.session = new SshSession(opts.stateDir ? { ansibleControlDir: controlPathDir(opts.stateDir) } : {});
    this.defaults = opts.knownHostsFile ? { knownHostsFile: opts.knownHostsFile } : {};
    this.canInstall = opts.stateDir !== undefined;
  }

  private target(host: WorkHost): SshTarget {
    return targetFromHost(host, this.defaults);
  }

  async run(host: WorkHost, command: string, opts: RunOptions = {}): Promise<RunResult> {
    const r = await execTarget(this.target(host), command, { session: this.session, ...opts });
    if (r.error && !r.timedOut) {
      throw new RunError('run.ssh_failed', `cannot reach ${host.name} (${host.address}) over ssh: ${r.error.message}`, r.error.hint ? { hint: r.error.hint } : {});
    }
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: Boolean(r.timedOut), durationMs: r.durationMs };
  }

  async start(spec: StartSpec): Promise<Started> {
    const dir = spec.dir ?? defaultDir(spec.host);
    const s: Started = { host: spec.host, name: spec.name, pidfile: `${dir}/${spec.name}.pid`, logfile: `${dir}/${spec.name}.log` };
    const wait = spec.waitSeconds ?? 10;
    const script = startScript({ name: spec.name, command: spec.command, dir, pidfile: s.pidfile, logfile: s.logfile, waitSeconds: wait, ...(spec.port ? { port: spec.port } : {}), ...(spec.file ? { file: { path: spec.file.path, ...(spec.file.mode ? { mode: spec.file.mode } : {}) } } : {}) });
    const r = await this.run(spec.host, script, { timeoutMs: wait * 1000 + 15_000, ...(spec.signal ? { signal: spec.signal } : {}), ...(spec.file ? { input: spec.file.content } : {}) });
    if (r.code !== 0) {
      throw new RunError('run.start_failed', `${spec.name} failed to start on ${spec.host.name}`, { details: r.stderr.trim().split('\n').slice(-15) });
    }
    this.started.add(s);
    return s;
  }

  async stop(what?: Started | Started[], opts: { graceSeconds?: number } = {}): Promise<void> {
    const list = what === undefined ? [...this.started] : Array.isArray(what) ? what : [what];
    const grace = opts.graceSeconds ?? 3;
    await Promise.all(
      list.map(async (s) => {
        await this.run(s.host, stopScript(s.pidfile, grace), { timeoutMs: (grace + 17) * 1000 }).catch(() => undefined);
        this.started.delete(s);
      }),
    );
  }

  async wait(what: Started[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    const byHost = new Map<WorkHost, Started[]>();
    for (const s of what) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
    const done = await Promise.all(
      [...byHost].map(async ([host, list]) => {
        const r = await this.run(host, waitScript(list.map((s) => s.pidfile)), { ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
        return r.code === 0;
      }),
    );
    return done.every(Boolean);
  }

  async fetch(host: WorkHost, remotePath: string, localPath: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const r = await fetchFile(this.target(host), remotePath, localPath, { session: this.session, timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (r.error) throw new RunError('run.fetch_failed', `cannot copy ${remotePath} from ${host.name}: ${r.error.message}`);
  }

  async put(host: WorkHost, path: string, content: string, opts: { mode?: string } = {}): Promise<void> {
    const r = await putFile(this.target(host), path, content, { session: this.session, ...(opts.mode ? { mode: opts.mode } : {}) });
    if (r.code !== 0) throw new RunError('run.put_failed', `cannot write ${path} on ${host.name}: ${(r.error?.message ?? r.stderr).trim()}`);
  }

  async installTools(hosts: WorkHost[], needs: ToolNeeds, opts: { progress?: (line: string) => void; signal?: AbortSignal } = {}): Promise<InstallReport> {
    const stateDir = this.opts.stateDir;
    if (!stateDir) throw new RunError('run.cannot_install', 'tools can only be installed on the hosts of an experiment brought up by `setup`');
    const what = [...needs.packages, ...(needs.uperf ? ['uperf'] : []), ...(needs.pcp ? ['pcp'] : [])];
    opts.progress?.(`installing on ${hosts.map((h) => h.name).join(', ')}: ${what.join(', ')} (net-tools.yml)`);
    const r = await runPlaybook({
      stateDir,
      playbook: 'net-tools',
      extraVars: {
        gr_net_hosts: hosts.map((h) => h.name).join(','),
        gr_net_packages: needs.packages,
        // The tool registry's packages and programs, so a new tool needs no change to the role.
        ...(needs.programs && Object.keys(needs.programs).length ? { net_tools_packages: needs.programs } : {}),
        gr_net_uperf: Boolean(needs.uperf),
        gr_net_pcp: Boolean(needs.pcp),
        ...(needs.uperfSource ? { uperf_source: needs.uperfSource } : {}),
      },
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      timeoutMs: 1_800_000,
    });
    return { via: 'net-tools', hosts: hosts.map((h) => h.name), changed: Object.values(r.recap).reduce((a, x) => a + (x.changed ?? 0), 0), log: r.logFile };
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
