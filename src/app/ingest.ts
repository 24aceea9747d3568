/**
 * `entrypoint ingest <exp>`: one ingest run on a set-up experiment. Validate everything, plan and
 * render the run manifest, run ansible/playbooks/ingest.yml (topic, generators from one shared
 * start, summaries fetched, generators stopped, topic deleted), follow progress from the
 * generators' metrics, watch the brokers, then merge the summaries, account energy over the
 * measurement window and write the run record and its CSV line. Ctrl-C or a dead broker still
 * end in a saved record (`aborted` / `failed`) after a bounded cleanup.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { relative } from 'node:path';
import { runPlaybook } from '../ansible/runner.js';
import { loadExperiment } from '../config/loader.js';
import type { Experiment } from '../config/schema/experiment.js';
import { GreenraceError, InterruptedError, RunError, UsageError, errorMessage } from '../core/errors.js';
import { PROJECT_ROOT } from '../core/paths.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import { hostsInRole, type Host } from '../core/types.js';
import { asLoadgenSummary, mergeSummaries, MB, type LoadgenSummary, type MergedSummary } from '../loadgen/summary.js';
import { energyAccount, energySources, toEnergyFigure, type EnergyAccount, type EnergyWindow } from '../metrics/energy/index.js';
import { appendRunCsv, runDir, saveRunRecord, type RunRecord, type RunStatus } from '../runs/record.js';
import { newRunId } from '../runs/run-id.js';
import { prometheusHost } from '../services/registry.js';
import { planIngest, parseManifest, renderManifest, validateIngest, type IngestPlan } from '../workloads/ingest/plan.js';
import { energyContext } from './baseline.js';
import { readMetadata } from './metadata.js';
import { lockState, readState } from './state.js';

export interface IngestFlags {
  load?: number;
  message_size?: number;
  instances?: number;
  partitions?: number;
  duration?: string | number;
  warmup?: string | number;
  broker?: string;
  driver?: string;
  acks?: string;
}

export interface IngestOptions {
  experiment: string;
  flags: IngestFlags;
  set?: string[];
  progress?: (line: string) => void;
  signal?: AbortSignal;
  verbose?: boolean;
  /** Seconds from planning to the shared start (default 20). */
  startLeadS?: number;
}

export interface IngestOutcome {
  record: RunRecord;
  recordPath: string;
  csvPath: string;
  merged?: MergedSummary;
  plan: IngestPlan;
}

const FLAG_PATHS: Record<keyof IngestFlags, string> = {
  load: 'ingest.load',
  message_size: 'ingest.message_size',
  instances: 'ingest.instances',
  partitions: 'ingest.partitions',
  duration: 'ingest.duration',
  warmup: 'ingest.warmup',
  broker: 'ingest.broker',
  driver: 'ingest.driver',
  acks: 'ingest.acks',
};

export function ingestOverrides(flags: IngestFlags): Array<{ path: string; value: unknown; flag: string }> {
  const out: Array<{ path: string; value: unknown; flag: string }> = [];
  for (const [k, path] of Object.entries(FLAG_PATHS) as Array<[keyof IngestFlags, string]>) {
    const v = flags[k];
    if (v !== undefined) out.push({ path, value: v, flag: `--${k}` });
  }
  return out;
}

/** Everything that can be checked without touching the cluster. Throws ConfigError/UsageError. */
export function prepareIngest(opts: Pick<IngestOptions, 'experiment' | 'flags' | 'set'>): {
  experiment: Experiment;
  files: string[];
  hosts: Host[];
  stateDir: string;
  bootstrap: string[];
  prometheusUrl?: string;
  services: string[];
} {
  const overrides = ingestOverrides(opts.flags);
  const { experiment, files } = loadExperiment(opts.experiment, { set: opts.set ?? [], overrides });
  const dir = stateDirOf(experiment.name);
  const st = readState(dir);
  const where = (path: string): string => {
    const o = overrides.find((x) => x.path === path);
    return o ? o.flag : files[0]!;
  };
  // Cluster-independent checks first (a bad flag is reported even when nothing is set up).
  if (!st || !st.platform) {
    throw new UsageError('ingest.not_setup', `experiment ${experiment.name} is not set up (no ${join(dir, 'state.json')})`, {
      hint: `run \`entrypoint setup ${experiment.name}\` first`,
    });
  }
  if (st.phase !== 'ready') {
    throw new UsageError('ingest.not_ready', `experiment ${experiment.name} is not ready (its setup is ${st.phase})`, {
      hint: `run \`entrypoint setup ${experiment.name}\` again`,
    });
  }
  const hosts = st.platform.hosts;
  validateIngest(experiment, hostsInRole({ hosts }, 'worker'), hostsInRole({ hosts }, 'broker'), st.services, where);
  const key = experiment.ingest.broker === 'kafka' ? 'kafka_bootstrap_servers' : 'redpanda_bootstrap_servers';
  const bs = st.endpoints[key];
  if (!bs) throw new UsageError('ingest.no_bootstrap', `the state of ${experiment.name} has no ${key}; run \`entrypoint setup ${experiment.name}\` again`);
  return {
    experiment,
    files,
    hosts,
    stateDir: dir,
    bootstrap: bs.split(',').filter(Boolean),
    ...(st.endpoints.prometheus_url ? { prometheusUrl: st.endpoints.prometheus_url } : {}),
    services: st.services,
  };
}

/** Sum of a counter family in a Prometheus text exposition (optionally one label value). */
export function sumMetric(text: string, name: string, label?: [string, string]): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+eE\d.]+|NaN)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (label && !(m[2] ?? '').includes(`${label[0]}="${label[1]}"`)) continue;
    total += Number(m[3]);
  }
  return total;
}

async function scrape(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

function tcpAlive(hostPort: string, timeoutMs: number): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(i + 1));
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function readSummaries(dir: string): LoadgenSummary[] {
  const d = join(dir, 'summaries');
  if (!existsSync(d)) return [];
  const out: LoadgenSummary[] = [];
  for (const f of readdirSync(d).sort()) {
    if (!f.endsWith('.json')) continue;
    try {
      const s = asLoadgenSummary(JSON.parse(readFileSync(join(d, f), 'utf8')));
      if (s) out.push(s);
    } catch {
      /* a summary cut short by a kill: left out, its instance counts as missing */
    }
  }
  return out;
}

const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;

/**
 * Energy of a run's measurement window, through the same energy context as `baseline`: the
 * platform's sources (Kwollect on Grid'5000, with the API URL and credentials setup used) and the
 * hosts with their inventory attributes (g5k_fqdn). The run's own `energy` settings (with its
 * --set overrides) choose and order the sources; the platform sources come from the context.
 */
export async function accountIngestEnergy(experiment: Pick<Experiment, 'name' | 'energy' | 'monitoring'>, window: EnergyWindow): Promise<EnergyAccount> {
  const ctx = await energyContext(experiment.name);
  const platformSources = Object.fromEntries(ctx.sources.map((s) => [s.name, s]));
  const sources = energySources(experiment, ctx.prom, platformSources);
  return energyAccount(sources, ctx.hosts, window, { minCoverage: experiment.energy.min_coverage });
}

export async function runIngest(opts: IngestOptions): Promise<IngestOutcome> {
  const progress = opts.progress ?? (() => {});
  const prep = prepareIngest(opts);
  const { experiment, hosts, stateDir } = prep;
  const lock = lockState(experiment.name, `entrypoint ingest ${experiment.name}`, stateDir);
  try {
    return await runLocked(opts, prep, progress);
  } finally {
    lock.release();
  }
}

async function runLocked(opts: IngestOptions, prep: ReturnType<typeof prepareIngest>, progress: (l: string) => void): Promise<IngestOutcome> {
  const { experiment, hosts, stateDir } = prep;
  const runId = newRunId();
  // The shared start is fixed after the topic exists (creating it can take a minute on a busy cluster).
  const promHost = prometheusHost(prep.services, hosts)?.name;
  const scrapeOpt = promHost ? { prometheusHost: promHost } : {};
  let plan = planIngest(experiment, hosts, { runId, bootstrap: prep.bootstrap, ...scrapeOpt });
  let manifestText = renderManifest(plan);
  let manifest = parseManifest(manifestText);
  const dir = runDir(experiment.name, runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.yaml'), manifestText);
  const p = experiment.ingest;
  const parameters = {
    broker: p.broker,
    driver: p.driver,
    load: p.load,
    message_size: p.message_size,
    instances: p.instances,
    partitions: p.partitions,
    replication_factor: plan.replicationFactor,
    min_insync_replicas: plan.minInsyncReplicas,
    duration: p.duration,
    warmup: p.warmup,
    acks: p.acks,
    keys: p.keys,
    linger_ms: p.linger_ms,
    batch_size: p.batch_size,
    topic: p.topic,
    bootstrap: prep.bootstrap.join(','),
    start_at: new Date(plan.startAt).toISOString(),
    generators: plan.generators.map((g) => ({ id: g.id, host: g.host, rate: g.rate })),
    ...(p.broker === 'redpanda' ? { redpanda_write_caching: experiment.redpanda.write_caching } : {}),
  };
  const record: RunRecord = {
    schema: 'greenrace.run/1',
    id: runId,
    experiment: experiment.name,
    workload: 'ingest',
    status: 'running',
    startedAt: new Date().toISOString(),
    parameters,
    files: ['manifest.yaml'],
  };
  saveRunRecord(record);
  progress(`run ${runId}: ${p.load} msg/s of ${p.message_size} B over ${p.instances} ${p.driver} generator(s) on ${new Set(plan.generators.map((g) => g.host)).size} worker(s), ${p.partitions} partitions, acks=${p.acks}; warm-up ${p.warmup} s, measure ${p.duration} s`);

  // Stop reasons: the user (Ctrl-C) or the broker watchdog.
  const stop = new AbortController();
  let stopReason: { kind: 'user' } | { kind: 'broker'; message: string } | undefined;
  const onUser = (): void => {
    if (!stopReason) stopReason = { kind: 'user' };
    stop.abort();
  };
  if (opts.signal?.aborted) onUser();
  opts.signal?.addEventListener('abort', onUser, { once: true });

  let deadlineMs = Infinity;
  // Set once every generator is ready: the shared start, epoch ms.
  let sharedStart: number | undefined;
  let triggering = false;
  let prepared = false;
  const timers: NodeJS.Timeout[] = [];
  // Progress from the generators' own metrics, every 2 s once they run.
  let lastAcked = 0;
  let lastT = 0;
  // The shared start: once every generator answers /ready, send them all the same start time.
  timers.push(
    setInterval(() => {
      if (!prepared || sharedStart !== undefined || triggering || stop.signal.aborted) return;
      triggering = true;
      void Promise.all(plan.generators.map((g) => scrape(`http://${g.address}:${g.metricsPort}/ready`, 1000)))
        .then(async (r) => {
          if (r.some((x) => x === undefined) || sharedStart !== undefined) return;
          const at = Date.now() + 2000;
          const res = await Promise.all(
            plan.generators.map((g) =>
              fetch(`http://${g.address}:${g.metricsPort}/start?at=${at}`, { method: 'POST', signal: AbortSignal.timeout(1500) }).then((x) => x.ok, () => false),
            ),
          );
          if (res.every(Boolean)) {
            sharedStart = at;
            plan.startAt = at;
            progress(`all ${plan.generators.length} generators ready: shared start ${new Date(at).toISOString()}`);
          } else progress(`start trigger refused by ${res.filter((x) => !x).length} generator(s)`);
        })
        .finally(() => (triggering = false));
    }, 1000),
  );
  timers.push(
    setInterval(() => {
      const now = Date.now();
      if (sharedStart === undefined || now < sharedStart) return;
      void Promise.all(plan.generators.map((g) => scrape(`http://${g.address}:${g.metricsPort}/metrics`, 1500))).then((texts) => {
        const got = texts.filter((t): t is string => t !== undefined);
        if (!got.length || stop.signal.aborted) return;
        const acked = got.reduce((a, t) => a + sumMetric(t, 'greenrace_loadgen_messages_acked_total'), 0);
        const failed = got.reduce((a, t) => a + sumMetric(t, 'greenrace_loadgen_messages_failed_total'), 0);
        const t = Date.now();
        const rate = lastT ? ((acked - lastAcked) * 1000) / (t - lastT) : 0;
        lastAcked = acked;
        lastT = t;
        const phase = t < plan.startAt + p.warmup * 1000 ? 'warm-up' : t < plan.startAt + (p.warmup + p.duration) * 1000 ? 'measure' : 'draining';
        const left = Math.max(0, Math.round((plan.startAt + (p.warmup + p.duration) * 1000 - t) / 1000));
        progress(`${phase}: ${Math.round(rate)} msg/s acked (target ${p.load}), ${acked} acked, ${failed} failed, ${got.length}/${plan.generators.length} generators reporting, ${left} s left`);
      });
    }, 2000),
  );
  // Broker watchdog: a broker that stops answering ends the run (results would not be trustworthy).
  const misses = new Map<string, number>();
  timers.push(
    setInterval(() => {
      const now = Date.now();
      if (sharedStart === undefined || now > deadlineMs || stop.signal.aborted) return;
      for (const b of prep.bootstrap) {
        void tcpAlive(b, 1500).then((ok) => {
          const n = ok ? 0 : (misses.get(b) ?? 0) + 1;
          misses.set(b, n);
          if (n >= 2 && !stop.signal.aborted) {
            stopReason = { kind: 'broker', message: `broker ${b} stopped answering during the run` };
            progress(`${stopReason.message}: stopping the generators`);
            stop.abort();
          }
        });
      }
    }, 2000),
  );

  const extraVars = {
    ingest: manifest,
    ingest_phase: 'prepare',
    ingest_node: process.execPath,
    ingest_entrypoint: join(PROJECT_ROOT, 'dist', 'entrypoint.js'),
    ingest_results_dir: dir,
    gr_config: experiment,
  };
  let playbookError: unknown;
  try {
    progress('preparing: topic and run folders');
    await runPlaybook({ stateDir, playbook: 'ingest', extraVars, progress: (l) => progress(l), signal: stop.signal, timeoutMs: 600_000, graceMs: 3000, ...(opts.verbose ? { verbose: true } : {}) });
    prepared = true;
    plan = planIngest(experiment, hosts, { runId, bootstrap: prep.bootstrap, ...scrapeOpt, ...(opts.startLeadS !== undefined ? { startLeadS: opts.startLeadS } : {}) });
    manifestText = renderManifest(plan);
    manifest = parseManifest(manifestText);
    writeFileSync(join(dir, 'manifest.yaml'), manifestText);
    deadlineMs = Number(manifest.deadline_epoch_s) * 1000;
    sharedStart = undefined;
    progress('starting the generators; they start together once all have reached the brokers');
    await runPlaybook({
      stateDir,
      playbook: 'ingest',
      extraVars: { ...extraVars, ingest: manifest, ingest_phase: 'run' },
      progress: (l) => progress(l),
      signal: stop.signal,
      timeoutMs: Math.max(60_000, deadlineMs - Date.now() + 300_000),
      graceMs: 3000,
      ...(opts.verbose ? { verbose: true } : {}),
    });
  } catch (e) {
    playbookError = e;
  } finally {
    for (const t of timers) clearInterval(t);
  }
  opts.signal?.removeEventListener('abort', onUser);
  // The run phase's own `always` part stopped and fetched unless ansible itself was stopped.
  const killed = Boolean(stopReason) || (playbookError instanceof GreenraceError && ['ansible.timeout', 'run.interrupted'].includes(playbookError.code)) || playbookError instanceof InterruptedError || !prepared;
  if (playbookError !== undefined && killed) {
    // Stop every generator on every host (each writes a partial summary), fetch, delete the topic.
    progress('cleaning up: stopping the generators, fetching what they measured, deleting the topic');
    try {
      await runPlaybook({ stateDir, playbook: 'ingest', extraVars: { ...extraVars, ingest: manifest, ingest_phase: 'cleanup' }, timeoutMs: 300_000, tolerate: 'all', progress: (l) => progress(l) });
    } catch (e) {
      progress(`cleanup failed: ${errorMessage(e)}`);
    }
  }

  // Results.
  const summaries = readSummaries(dir);
  let merged: MergedSummary | undefined;
  if (summaries.length) merged = mergeSummaries(summaries);
  let status: RunStatus = 'completed';
  let error: RunRecord['error'];
  if (stopReason?.kind === 'user' || (playbookError instanceof InterruptedError && !stopReason)) {
    status = 'aborted';
    error = { code: 'run.interrupted', message: 'stopped by the user (Ctrl-C)' };
  } else if (stopReason?.kind === 'broker') {
    status = 'failed';
    error = { code: 'ingest.broker_down', message: stopReason.message };
  } else if (playbookError) {
    status = 'failed';
    const ge = playbookError instanceof GreenraceError ? playbookError : undefined;
    error = { code: ge?.code ?? 'ingest.playbook', message: errorMessage(playbookError) };
  } else if (summaries.length < plan.generators.length) {
    status = 'failed';
    error = { code: 'ingest.missing_summaries', message: `${plan.generators.length - summaries.length} of ${plan.generators.length} generators left no summary` };
  } else {
    const bad = summaries.find((s) => s.status !== 'completed');
    if (bad) {
      status = 'failed';
      error = { code: bad.error?.code ?? 'ingest.generator', message: `generator ${bad.instance}: ${bad.error?.message ?? bad.status}` };
    }
  }

  const results: Record<string, unknown> = {};
  let window: RunRecord['window'];
  let energyFigure: RunRecord['energy'];
  if (merged && sharedStart === undefined) {
    Object.assign(results, { note: 'stopped before the generators started: nothing was measured' });
  }
  if (merged && sharedStart !== undefined) {
    window = { start: round(merged.window.start / 1000), end: round(merged.window.end / 1000), warmupStart: round(plan.startAt / 1000) };
    const seconds = Math.max(0.001, window.end - window.start);
    const targetRate = status === 'completed' ? p.load : merged.target.rate;
    Object.assign(results, {
      target_rate: p.load,
      achieved_rate: round(merged.achieved.msgPerSec, 1),
      achieved_ratio: targetRate > 0 ? round(merged.achieved.msgPerSec / targetRate, 4) : null,
      mb_per_s: round(merged.achieved.mbPerSec, 3),
      messages_target: merged.target.messages,
      messages_sent: merged.counts.sent,
      messages_acked: merged.counts.acked,
      messages_failed: merged.counts.failed,
      messages_unsent: merged.counts.unsent,
      messages_unacked: merged.counts.unacked,
      bytes_acked: merged.counts.bytesAcked,
      // True when messages due in the window were never sent or never acknowledged: the latency
      // figures then hold that backlog at its censored latency (lower bounds).
      saturated: merged.saturated,
      latency_ms: merged.latencyMs,
      latency_basis: merged.latency,
      latency_merge: merged.latencyMerge,
      warmup: merged.warmup,
      errors: merged.errors,
      generator_cpu_s: merged.cpu ? round(merged.cpu.userS + merged.cpu.systemS) : null,
      generators: summaries.map((s) => ({
        id: s.instance,
        host: s.host,
        driver: s.driver,
        status: s.status,
        rate: s.target.rate,
        achieved_rate: round(s.achieved.msgPerSec, 1),
        acked: s.counts.acked,
        failed: s.counts.failed,
        unsent: s.counts.unsent,
        unacked: s.counts.unacked,
        saturated: s.saturated,
        latency_ms: s.latencyMs,
        latency_basis: { loop: s.latency.loop, from: s.latency.from },
        ...(s.error ? { error: s.error } : {}),
        ...(s.notes ? { notes: s.notes } : {}),
      })),
      window_seconds: round(seconds),
    });
    // Energy over the measurement window.
    if (prep.prometheusUrl && seconds >= 1) {
      try {
        // Let Prometheus scrape past the end of the window first.
        const wait = Math.min(15_000, (window.end + experiment.monitoring.scrape_interval * 1.5) * 1000 - Date.now());
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const account = await accountIngestEnergy(experiment, { start: window.start, end: window.end });
        energyFigure = toEnergyFigure(account);
        const j = account.totalJoules;
        Object.assign(results, {
          energy_j: j === null ? null : round(j, 2),
          energy_sources: account.sources,
          mean_watts: account.meanWatts === null ? null : round(account.meanWatts, 2),
          msg_per_j: j && j > 0 ? round(merged.counts.acked / j, 3) : null,
          j_per_mb: j !== null && merged.counts.bytesAcked > 0 ? round(j / (merged.counts.bytesAcked / MB), 4) : null,
          ...(Object.keys(account.errors).length ? { energy_errors: account.errors } : {}),
        });
      } catch (e) {
        Object.assign(results, { energy_j: null, msg_per_j: null, j_per_mb: null, energy_errors: { account: errorMessage(e) } });
      }
    } else {
      Object.assign(results, { energy_j: null, msg_per_j: null, j_per_mb: null, energy_errors: { account: prep.prometheusUrl ? 'window shorter than 1 s' : 'no Prometheus in this experiment' } });
    }
  }

  const files = ['manifest.yaml'];
  for (const sub of ['summaries', 'logs']) {
    const d = join(dir, sub);
    if (existsSync(d)) for (const f of readdirSync(d).sort()) files.push(`${sub}/${f}`);
  }
  const metadata = readMetadata(stateDir);
  const versions: Record<string, string> = {
    greenrace: readPackageVersion(),
    node: process.version,
    loadgen_client: summaries[0] ? `${summaries[0].client.name} ${summaries[0].client.version}` : 'unknown',
    broker: p.broker === 'kafka' ? `kafka ${experiment.kafka.version}` : `redpanda ${experiment.redpanda.version}`,
  };
  const final: RunRecord = {
    ...record,
    status,
    endedAt: new Date().toISOString(),
    ...(window ? { window } : {}),
    results,
    ...(energyFigure ? { energy: energyFigure } : {}),
    hosts: hosts.map((h) => ({ name: h.name, address: h.address, roles: h.roles, ...(metadata[h.name] ? { metadata: metadata[h.name] } : {}) })),
    versions,
    ...(error ? { error } : {}),
    files,
  };
  const recordPath = saveRunRecord(final);
  const csvPath = appendRunCsv(experiment.name, 'ingest', {
    run_id: runId,
    started_at: final.startedAt,
    status,
    broker: p.broker,
    driver: p.driver,
    load: p.load,
    message_size: p.message_size,
    instances: p.instances,
    partitions: p.partitions,
    acks: p.acks,
    duration_s: p.duration,
    warmup_s: p.warmup,
    window_start: window ? new Date(window.start * 1000).toISOString() : undefined,
    window_end: window ? new Date(window.end * 1000).toISOString() : undefined,
    achieved_rate: results.achieved_rate,
    mb_per_s: results.mb_per_s,
    acked: results.messages_acked,
    failed: results.messages_failed,
    p50_ms: merged?.latencyMs.p50,
    p95_ms: merged?.latencyMs.p95,
    p99_ms: merged?.latencyMs.p99,
    p999_ms: merged?.latencyMs.p999,
    max_ms: merged?.latencyMs.max,
    energy_j: results.energy_j,
    energy_source: Array.isArray(results.energy_sources) ? (results.energy_sources as string[]).join('+') : '',
    msg_per_j: results.msg_per_j,
    j_per_mb: results.j_per_mb,
    error: error?.code,
  });
  const outcome: IngestOutcome = { record: final, recordPath, csvPath, plan, ...(merged ? { merged } : {}) };
  if (status === 'aborted') {
    throw Object.assign(new InterruptedError(`ingest run ${runId} stopped; the record is saved (status aborted): ${relative(process.cwd(), recordPath)}`), { outcome });
  }
  if (status === 'failed') {
    throw Object.assign(
      new RunError(error?.code ?? 'ingest.failed', `ingest run ${runId} failed: ${error?.message ?? 'unknown'}; the record is saved: ${relative(process.cwd(), recordPath)}`),
      { outcome },
    );
  }
  return outcome;
}

function readPackageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
