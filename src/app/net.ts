/**
 * `net <exp>`: one network measurement (iperf3, uperf, netperf, sockperf) between a server and a
 * client host chosen by role, or the latency matrix between hosts (CSV + Pushgateway), with
 * optional network emulation for the run. Each run gets a UUID and a run record.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadExperiment } from '../config/loader.js';
import type { Experiment } from '../config/schema/experiment.js';
import { InterruptedError, RunError, UsageError, errorMessage, isGreenraceError } from '../core/errors.js';
import { controlPathDir, inventoryPath } from '../ansible/config.js';
import { runPlaybook, type PlaybookResult } from '../ansible/runner.js';
import { writeAnsibleFiles } from './ansible-files.js';
import { stateDir } from '../core/paths.js';
import { appendRunCsv, runDir, saveRunRecord, type RunRecord } from '../runs/record.js';
import { newRunId } from '../runs/run-id.js';
import { PushgatewayClient } from '../metrics/pushgateway.js';
import { readState } from './state.js';
import { readMetadata } from './metadata.js';
import type { NetHost, NetResult, NetTool } from '../workloads/net/types.js';
import type { NetDriver, NetParams } from '../workloads/net/driver.js';
import { checkSupported } from '../workloads/net/driver.js';
import { netDir } from '../workloads/net/background.js';
import type { HostExec } from '../workloads/net/exec.js';
import { SshExec } from '../workloads/net/ssh-exec.js';
import { runPair } from '../workloads/net/run-pair.js';
import { iperf3Driver } from '../workloads/iperf3/driver.js';
import { sockperfDriver } from '../workloads/sockperf/driver.js';
import { netperfDriver } from '../workloads/netperf/driver.js';
import { uperfDriver } from '../workloads/uperf/driver.js';
import { measureMatrix } from '../workloads/matrix/run.js';
import { matrixCsv, matrixGauges, type MatrixRow } from '../workloads/matrix/report.js';
import type { MatrixMode } from '../workloads/matrix/schedule.js';
import { applyNetem, removeNetem } from '../workloads/netem/apply.js';
import { collectPcp, missingPcp, startPcp, stopPcp, type PcpRecording } from '../workloads/pcp/logger.js';
import type { PcpSummary } from '../workloads/pcp/summary.js';

export const DRIVERS: Record<NetTool, NetDriver> = { iperf3: iperf3Driver, sockperf: sockperfDriver, netperf: netperfDriver, uperf: uperfDriver };
export const DEFAULT_PORTS: Record<NetTool, number> = { iperf3: 5201, uperf: 20000, netperf: 12865, sockperf: 11111 };

/** Where the hosts come from: the experiment's state (after `setup`), or given (tests, the REPL). */
export interface HostSource {
  hosts?: NetHost[];
  /** Pushgateway URL; default: the state's `pushgateway_url` endpoint. */
  pushgatewayUrl?: string;
  exec?: HostExec;
  /** With given hosts: the state folder whose inventory reaches them (for net-tools.yml). */
  stateDir?: string;
}

export interface NetCommon extends HostSource {
  exp: string;
  set?: string[];
  overrides?: Array<{ path: string; value: unknown; flag: string }>;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

/** The hosts of an experiment that `setup` brought up, as the network workloads use them. */
export function hostsFromState(exp: string): { hosts: NetHost[]; endpoints: Record<string, string>; metadata: Record<string, unknown> } {
  const dir = stateDir(exp);
  const st = readState(dir);
  if (!st?.platform?.hosts?.length) {
    throw new UsageError('net.no_hosts', `experiment ${exp} has no hosts: run \`entrypoint setup ${exp}\` first`);
  }
  const h = st.platform;
  const hosts = h.hosts.map((x) => ({ ...x, dataDir: h.dataDirs[x.name] ?? `/tmp/greenrace/${x.name}` }));
  return { hosts, endpoints: st.endpoints ?? {}, metadata: readMetadata(dir) };
}

interface Ctx {
  experiment: Experiment;
  hosts: NetHost[];
  pushgatewayUrl?: string;
  metadata: Record<string, unknown>;
  exec: HostExec;
  ownExec: boolean;
  /** The experiment's state folder when the hosts came from `setup` (Ansible can reach them). */
  stateDir?: string;
}

function context(o: NetCommon): Ctx {
  const { experiment } = loadExperiment(o.exp, { set: o.set, overrides: o.overrides });
  let hosts = o.hosts;
  let pushgatewayUrl = o.pushgatewayUrl;
  let metadata: Record<string, unknown> = {};
  let dir: string | undefined;
  if (!hosts) {
    const s = hostsFromState(experiment.name);
    hosts = s.hosts;
    pushgatewayUrl ??= s.endpoints.pushgateway_url;
    metadata = s.metadata;
    dir = stateDir(experiment.name);
  } else if (o.stateDir) dir = o.stateDir;
  const exec = o.exec ?? new SshExec(dir ? { ansibleControlDir: controlPathDir(dir) } : {});
  return { experiment, hosts, ...(pushgatewayUrl ? { pushgatewayUrl } : {}), metadata, exec, ownExec: !o.exec, ...(dir ? { stateDir: dir } : {}) };
}

/** Facts about hosts for the run record: from setup's gathered metadata, else a quick probe. */
async function hostFacts(ctx: Ctx, hosts: NetHost[], signal?: AbortSignal): Promise<Array<Record<string, unknown>>> {
  return Promise.all(
    hosts.map(async (h) => {
      const known = ctx.metadata[h.name];
      if (known && typeof known === 'object') return { ...(known as Record<string, unknown>), name: h.name, roles: h.roles };
      const r = await ctx.exec
        .exec(h, `echo "hostname=$(hostname)"; echo "kernel=$(uname -r)"; echo "arch=$(uname -m)"; echo "cpus=$(nproc)"; awk '/MemTotal/{print "memory_kb="$2}' /proc/meminfo; sed -n 's/^model name[[:space:]]*: /cpu_model=/p' /proc/cpuinfo | head -1`, { timeoutMs: 20_000, signal })
        .catch(() => undefined);
      const facts: Record<string, unknown> = { name: h.name, address: h.address, roles: h.roles };
      for (const l of (r?.stdout ?? '').split('\n')) {
        const i = l.indexOf('=');
        if (i > 0) facts[l.slice(0, i)] = /^\d+$/.test(l.slice(i + 1)) ? Number(l.slice(i + 1)) : l.slice(i + 1);
      }
      return facts;
    }),
  );
}

/** What net-tools.yml installs for a run. */
export interface ToolNeeds {
  /** Debian packages of the net_tools role (iperf3, sockperf, wrk, nginx-light). */
  packages: string[];
  uperf: boolean;
  pcp: boolean;
}

export const TOOL_PACKAGES: Record<NetTool, string[]> = { iperf3: ['iperf3'], sockperf: ['sockperf'], uperf: [], netperf: [] };

/**
 * Run ansible/playbooks/net-tools.yml on `hosts` through the experiment's inventory (written from
 * the state when missing). Needs the hosts to come from `setup`.
 */
export async function installTools(
  o: { exp: string; stateDir: string; hosts: NetHost[]; needs: ToolNeeds; uperfSource?: string; progress?: (l: string) => void; signal?: AbortSignal },
): Promise<PlaybookResult> {
  const handle = readState(o.stateDir)?.platform;
  if (!handle) throw new UsageError('net.no_hosts', `experiment ${o.exp} has no hosts: run \`entrypoint setup ${o.exp}\` first`);
  if (!existsSync(inventoryPath(o.stateDir))) writeAnsibleFiles(o.exp, o.stateDir, handle);
  o.progress?.(`installing on ${o.hosts.map((h) => h.name).join(', ')}: ${[...o.needs.packages, ...(o.needs.uperf ? ['uperf'] : []), ...(o.needs.pcp ? ['pcp'] : [])].join(', ')} (net-tools.yml)`);
  return runPlaybook({
    stateDir: o.stateDir,
    playbook: 'net-tools',
    extraVars: {
      gr_net_hosts: o.hosts.map((h) => h.name).join(','),
      gr_net_packages: o.needs.packages,
      gr_net_uperf: o.needs.uperf,
      gr_net_pcp: o.needs.pcp,
      ...(o.uperfSource ? { uperf_source: o.uperfSource } : {}),
    },
    ...(o.progress ? { progress: o.progress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    timeoutMs: 1_800_000,
  });
}

/**
 * The preflight: `check` (the drivers' supported? step); with `net.install_tools: missing`, a
 * missing program makes net-tools.yml run once and the check run again; `always` installs first.
 */
async function preflight(ctx: Ctx, o: NetCommon, hosts: NetHost[], needs: ToolNeeds, check: () => Promise<void>, rec?: RunRecord): Promise<void> {
  const mode = ctx.experiment.net.install_tools;
  const canInstall = Boolean(ctx.stateDir) && (needs.packages.length > 0 || needs.uperf || needs.pcp);
  const install = async (): Promise<void> => {
    const r = await installTools({
      exp: ctx.experiment.name, stateDir: ctx.stateDir!, hosts, needs,
      ...(ctx.experiment.net.uperf.source ? { uperfSource: ctx.experiment.net.uperf.source } : {}),
      ...(o.progress ? { progress: o.progress } : {}), ...(o.signal ? { signal: o.signal } : {}),
    });
    if (rec) {
      rec.parameters.toolsInstalled = {
        playbook: 'net-tools',
        hosts: hosts.map((h) => h.name),
        changed: Object.values(r.recap).reduce((a, x) => a + (x.changed ?? 0), 0),
        log: r.logFile,
      };
    }
  };
  if (mode === 'always' && canInstall) await install();
  try {
    await check();
  } catch (e) {
    if (mode !== 'missing' || !canInstall || !(e instanceof RunError && e.code === 'net.tool_missing')) throw e;
    o.progress?.(`${e.message}`);
    await install();
    await check();
  }
}

async function checkPcp(exec: HostExec, hosts: NetHost[], signal?: AbortSignal): Promise<void> {
  const missing = await missingPcp(exec, hosts, signal);
  if (missing.length) {
    throw new RunError('net.tool_missing', `PCP is not installed: missing ${missing.join(', ')}`, {
      hint: 'set up the experiment (net-tools.yml installs pcp with net.pcp: true), or run ansible/playbooks/net-tools.yml -e gr_net_pcp=true',
    });
  }
}

/** PCP around `f` on `hosts` (net.pcp): started before, stopped after, archives collected and summarised. */
async function withPcp<T>(ctx: Ctx, o: NetCommon, hosts: NetHost[], runId: string, dir: string, rec: RunRecord, maxSeconds: number, f: () => Promise<T>): Promise<T> {
  const n = ctx.experiment.net;
  if (!n.pcp) return f();
  const recs: PcpRecording[] = [];
  try {
    for (const h of hosts) recs.push(await startPcp(ctx.exec, h, runId, { interval: n.pcp_interval, maxSeconds, signal: o.signal }));
  } catch (e) {
    await Promise.all(recs.map((r) => stopPcp(ctx.exec, r)));
    throw e;
  }
  o.progress?.(`PCP: pmlogger on ${hosts.map((h) => h.name).join(', ')} every ${n.pcp_interval} s`);
  let out: T;
  try {
    out = await f();
  } finally {
    await Promise.all(recs.map((r) => stopPcp(ctx.exec, r)));
  }
  const summaries: Record<string, PcpSummary> = {};
  const errors: Record<string, string> = {};
  for (const r of recs) {
    try {
      const c = await collectPcp(ctx.exec, r, dir, o.signal);
      summaries[c.host] = c.summary;
      rec.files = [...(rec.files ?? []), ...c.files];
    } catch (e) {
      errors[r.host.name] = errorMessage(e);
    }
  }
  rec.results = { ...(rec.results ?? {}), pcp: summaries, ...(Object.keys(errors).length ? { pcpErrors: errors } : {}) };
  return out;
}

/** Server and client by role: different hosts unless the roles leave none (and that is allowed). */
export function choosePair(hosts: NetHost[], serverRole: string, clientRole: string, allowSame: boolean): { server: NetHost; client: NetHost } {
  const servers = hosts.filter((h) => (h.roles as string[]).includes(serverRole));
  const clients = hosts.filter((h) => (h.roles as string[]).includes(clientRole));
  if (!servers.length) throw new UsageError('net.no_server', `no host has the server role "${serverRole}" (net.server_role)`);
  if (!clients.length) throw new UsageError('net.no_client', `no host has the client role "${clientRole}" (net.client_role)`);
  for (const s of servers) for (const c of clients) if (s.name !== c.name) return { server: s, client: c };
  if (!allowSame) {
    throw new UsageError('net.same_host', `server (${serverRole}) and client (${clientRole}) would both be ${servers[0]!.name}: give the roles more hosts, or set net.allow_same_host: true`);
  }
  return { server: servers[0]!, client: clients[0]! };
}

function paramsOf(e: Experiment, tool: NetTool): NetParams {
  const n = e.net;
  return {
    tool,
    protocol: n.protocol,
    streams: n.streams,
    duration: n.duration,
    ...(n.message_size !== undefined ? { messageSize: n.message_size } : {}),
    ...(n.bitrate !== undefined ? { bitrate: n.bitrate } : {}),
    reverse: n.reverse,
    port: n.port ?? DEFAULT_PORTS[tool],
    ...(n.netperf_test ? { test: n.netperf_test } : {}),
  };
}

export interface NetRunOutcome {
  record: RunRecord;
  dir: string;
  result?: NetResult;
}

/** Emulation for the run (net.netem with netem_apply: run): applied before, removed after, always. */
async function withNetem<T>(ctx: Ctx, signal: AbortSignal | undefined, rec: RunRecord, f: () => Promise<T>): Promise<T> {
  const e = ctx.experiment.net;
  if (!e.netem.length || e.netem_apply !== 'run') return f();
  const applied = await applyNetem(ctx.exec, ctx.hosts, e.netem, signal);
  rec.parameters.netem = applied.rules;
  try {
    return await f();
  } finally {
    await removeNetem(ctx.exec, ctx.hosts);
  }
}

function finish(rec: RunRecord, e: unknown): void {
  rec.endedAt = new Date().toISOString();
  if (e === undefined) {
    rec.status = 'completed';
    return;
  }
  rec.status = e instanceof InterruptedError ? 'aborted' : 'failed';
  rec.error = { code: isGreenraceError(e) ? e.code : 'internal', message: errorMessage(e) };
}

/** One measurement between two hosts; writes results/<exp>/<uuid>/{run.json,client.out} and a runs.csv line. */
export async function runNet(o: NetCommon & { tool?: NetTool }): Promise<NetRunOutcome> {
  const ctx = context(o);
  const e = ctx.experiment;
  const tool = o.tool ?? e.net.tool;
  const d = DRIVERS[tool];
  const p = paramsOf(e, tool);
  const { server, client } = choosePair(ctx.hosts, e.net.server_role, e.net.client_role, e.net.allow_same_host);
  const id = newRunId();
  const dir = runDir(e.name, id);
  const rec: RunRecord = {
    schema: 'greenrace.run/1',
    id,
    experiment: e.name,
    workload: tool,
    status: 'running',
    startedAt: new Date().toISOString(),
    parameters: { ...p, server: server.name, client: client.name, serverRole: e.net.server_role, clientRole: e.net.client_role },
  };
  saveRunRecord(rec);
  let result: NetResult | undefined;
  let err: unknown;
  try {
    o.progress?.(`run ${id}: ${tool} ${client.name} → ${server.name} (${p.protocol}, ${p.duration} s)`);
    rec.hosts = await hostFacts(ctx, [server, client], o.signal);
    const pcp = e.net.pcp;
    await preflight(ctx, o, [server, client], { packages: TOOL_PACKAGES[tool], uperf: tool === 'uperf', pcp }, async () => {
      await checkSupported(ctx.exec, d, server, client, o.signal);
      if (pcp) await checkPcp(ctx.exec, [server, client], o.signal);
    }, rec);
    mkdirSync(dir, { recursive: true });
    const out = await withPcp(ctx, o, [server, client], id, dir, rec, p.duration + 300, () =>
      withNetem(ctx, o.signal, rec, () =>
        runPair(ctx.exec, d, p, { server, client, serverAddress: server.address, clientDir: `${netDir(client)}/${id}` }, { signal: o.signal }),
      ),
    );
    writeFileSync(join(dir, 'client.out'), out.stdout);
    if (out.stderr) writeFileSync(join(dir, 'client.err'), out.stderr);
    result = out.result;
    rec.window = { start: out.start, end: out.end };
    rec.results = { ...result, ...(rec.results?.pcp ? { pcp: rec.results.pcp } : {}), ...(rec.results?.pcpErrors ? { pcpErrors: rec.results.pcpErrors } : {}) };
    rec.files = ['client.out', ...(rec.files ?? [])];
    if (typeof result.extra.version === 'string') rec.versions = { [tool]: result.extra.version };
  } catch (x) {
    err = x;
  } finally {
    finish(rec, err);
    saveRunRecord(rec);
    if (ctx.ownExec) await ctx.exec.close();
  }
  if (err) throw err;
  appendRunCsv(e.name, tool, {
    run_id: id,
    workload: tool,
    started_at: rec.startedAt,
    server: server.name,
    client: client.name,
    protocol: p.protocol,
    streams: p.streams,
    duration_s: p.duration,
    throughput_bps: result!.throughputBitsPerSecond,
    ops_per_s: result!.throughputOpsPerSecond,
    p50_us: result!.latencyMicroseconds?.p50,
    p90_us: result!.latencyMicroseconds?.p90,
    p99_us: result!.latencyMicroseconds?.p99,
    retransmits: result!.retransmits,
    loss_percent: result!.lossPercent,
    cpu_local_percent: result!.cpu?.localPercent,
    cpu_remote_percent: result!.cpu?.remotePercent,
  });
  return { record: rec, dir, result: result! };
}

export interface MatrixRunOptions extends NetCommon {
  mode?: MatrixMode;
  /** Repeat every N seconds until `count` runs or Ctrl-C. */
  every?: number;
  count?: number;
  /** Called after each matrix. */
  onMatrix?: (m: { record: RunRecord; rows: MatrixRow[]; csvPath: string; iteration: number }) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal?.aborted) return res();
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
  });
}

/**
 * The latency matrix: every ordered pair (or the ring), as CSV in the run folder and as gauges on
 * the Pushgateway (PUT: the group is replaced, so no stale pairs), labelled origin/destination.
 * With `every`, repeats (one run record per matrix) until `count` or an abort.
 */
export async function runMatrix(o: MatrixRunOptions): Promise<RunRecord[]> {
  const ctx = context(o);
  const e = ctx.experiment;
  const m = e.net.matrix;
  const mode = o.mode ?? m.mode;
  const d = DRIVERS[m.tool];
  const p: NetParams = { tool: m.tool, protocol: m.protocol, streams: 1, duration: m.duration, reverse: false, port: m.port, ...(m.message_size ? { messageSize: m.message_size } : {}) };
  const hosts = m.roles ? ctx.hosts.filter((h) => h.roles.some((r) => m.roles!.includes(r))) : ctx.hosts;
  const records: RunRecord[] = [];
  const limit = o.count ?? (o.every !== undefined ? Number.POSITIVE_INFINITY : 1);
  try {
    if (hosts.length < 2) throw new UsageError('net.matrix.too_few_hosts', `the latency matrix needs at least 2 hosts (the experiment has ${hosts.length}${m.roles ? ` in roles ${m.roles.join(', ')}` : ''})`);
    await preflight(ctx, o, hosts, { packages: TOOL_PACKAGES[m.tool], uperf: false, pcp: false }, async () => {
      await Promise.all(hosts.map((h, i) => (i % 2 === 0 || i === hosts.length - 1 ? checkSupported(ctx.exec, d, h, hosts[(i + 1) % hosts.length]!, o.signal) : undefined)));
    });
    const facts = await hostFacts(ctx, hosts, o.signal);
    const push = m.push && ctx.pushgatewayUrl ? new PushgatewayClient(ctx.pushgatewayUrl) : undefined;
    for (let it = 1; it <= limit; it++) {
      if (o.signal?.aborted) break;
      const t0 = Date.now();
      const id = newRunId();
      const dir = runDir(e.name, id);
      const rec: RunRecord = {
        schema: 'greenrace.run/1',
        id,
        experiment: e.name,
        workload: 'latency-matrix',
        status: 'running',
        startedAt: new Date().toISOString(),
        parameters: { tool: m.tool, mode, protocol: m.protocol, duration: m.duration, hosts: hosts.map((h) => h.name), iteration: it, every: o.every ?? null },
        hosts: facts,
      };
      saveRunRecord(rec);
      let err: unknown;
      try {
        const out = await withNetem(ctx, o.signal, rec, () => measureMatrix(ctx.exec, hosts, d, p, { mode, signal: o.signal, progress: o.progress }));
        mkdirSync(dir, { recursive: true });
        const csvPath = join(dir, 'latency.csv');
        writeFileSync(csvPath, matrixCsv(out.rows, m.metric_prefix));
        writeFileSync(join(dir, 'raw.json'), JSON.stringify(out.raw, null, 1));
        rec.window = { start: out.start, end: out.end };
        rec.results = {
          rows: out.rows,
          rounds: out.rounds,
          pairs: out.pairs,
          measured: out.rows.filter((r) => r.latency).length,
          failed: out.rows.filter((r) => !r.latency).length,
          wallSeconds: (Date.now() - t0) / 1000,
        };
        rec.files = ['latency.csv', 'raw.json'];
        if (push) {
          await push.push(matrixGauges(out.rows, m.metric_prefix, m.tool), { job: m.push_job, groupings: { experiment: e.name }, mode: 'replace' });
          rec.results.pushedTo = ctx.pushgatewayUrl;
        }
        o.onMatrix?.({ record: rec, rows: out.rows, csvPath, iteration: it });
      } catch (x) {
        err = x;
      } finally {
        finish(rec, err);
        saveRunRecord(rec);
        records.push(rec);
      }
      if (err) throw err;
      if (it < limit && o.every !== undefined) await sleep(Math.max(0, o.every * 1000 - (Date.now() - t0)), o.signal);
    }
  } finally {
    if (ctx.ownExec) await ctx.exec.close();
  }
  if (o.signal?.aborted && records.length === 0) throw new InterruptedError('latency matrix interrupted');
  return records;
}

/** Apply the experiment's netem constraints now (for `setup` with netem_apply: setup). */
export async function applyExperimentNetem(o: NetCommon): Promise<Record<string, unknown>> {
  const ctx = context(o);
  try {
    if (!ctx.experiment.net.netem.length) return {};
    return (await applyNetem(ctx.exec, ctx.hosts, ctx.experiment.net.netem, o.signal)).rules;
  } finally {
    if (ctx.ownExec) await ctx.exec.close();
  }
}

/**
 * Remove greenrace's traffic shaping from every host of an experiment (for killjob; idempotent;
 * a no-op when nothing is applied). Returns what it removed, "host: removed dev".
 */
export async function clearNetem(hosts: NetHost[], exec?: HostExec): Promise<string[]> {
  const ex = exec ?? new SshExec();
  try {
    return await removeNetem(ex, hosts);
  } finally {
    if (!exec) await ex.close();
  }
}

