/**
 * One ingest run through the runtime's executor: the topic, the generators started on the workers
 * from one plan (plan.json) and one shared start, progress from their metrics, a broker watchdog,
 * then always: targets withdrawn from Prometheus, generators stopped, summaries and logs fetched,
 * the topic deleted. The record ends completed, failed (a dead broker, a failed generator) or
 * aborted (Ctrl-C) with what was measured, its energy over the measurement window, and its CSV line.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InterruptedError, RunError, UsageError, errorMessage } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import { PROJECT_ROOT } from '../../core/paths.js';
import { shJoin } from '../../core/shell.js';
import { hostsInRole, type WorkHost } from '../../core/types.js';
import type { MergedSummary } from '../../loadgen/summary.js';
import { runPhases, type RunRecord } from '../../runs/record.js';
import type { Started } from '../../runtimes/executor.js';
import { K8sExecutor } from '../../runtimes/k8s/executor.js';
import type { BrokerAccess, RunContext, RunHandle } from '../contract.js';
import { deadlineS, loadgenPlan, planIngest, renderManifest, validateIngest, type GeneratorPlan, type IngestPlan } from './plan.js';
import { energyResults, ingestResults, mergeSummaries, readSummaries, runError, windowOf, type StopReason } from './results.js';
import type { IngestConfig } from './schema.js';
import { watchRun } from './watch.js';
import { controlBase, handOver, waitServed, type KeptGenerator, type KeptGenerators, type Served } from './kept.js';
import { KAFKA_IMAGE_LIBS, startGeneratorJobs, type GeneratorJobs } from './k8s.js';
import { absorbedNote, pageCacheVerdict, parseSync, syncLine, syncScript, type BrokerSync } from './pagecache.js';

export interface IngestArgs {
  /** Seconds the generators wait for the shared start (default: the plan's). */
  startLeadS?: number;
  /**
   * Hand the run back before its energy account (campaigns): the outcome comes once the rest is
   * collected, with `settled`, which adds the energy, finishes the record and gives the final
   * outcome; the next run prepares meanwhile (the account waits for Prometheus' scrapes past the
   * window's end). Only completed runs are handed back early.
   */
  deferEnergy?: boolean;
  /**
   * A campaign's generators kept up between its runs (ingest/kept.ts; hosts' runtime only): a run
   * hands its plan to the ones there are and starts the others with `--serve`; the campaign releases them.
   */
  kept?: KeptGenerators;
}

export interface IngestOutcome {
  record: RunRecord;
  /** With `deferEnergy`: the energy account and the finished record (the record is unfinished until then). */
  settled?: Promise<IngestOutcome>;
  recordPath: string;
  merged?: MergedSummary;
  plan: IngestPlan;
}

const hostDir = (h: WorkHost, runId: string): string => `${h.dataDir.replace(/\/+$/, '')}/ingest/${runId}`;

/** The cluster checks, before anything runs; the deployed broker. */
function checkCluster(ctx: RunContext<IngestConfig, IngestArgs>): BrokerAccess {
  const kind = ctx.config.broker;
  const broker = ctx.broker(kind);
  const workers = hostsInRole({ hosts: ctx.hosts }, 'worker');
  const brokers = hostsInRole({ hosts: ctx.hosts }, 'broker');
  validateIngest({ ingest: ctx.config }, workers, brokers, ctx.deployed, (p) => ctx.where(p), broker?.defaults);
  if (!broker) throw new UsageError('ingest.no_bootstrap', `the state of ${ctx.experiment.name} has no ${kind}_bootstrap_servers; run \`entrypoint setup ${ctx.experiment.name}\` again`);
  return broker;
}

function parametersOf(p: IngestConfig, plan: IngestPlan, broker: BrokerAccess): Record<string, unknown> {
  return {
    broker: p.broker,
    driver: p.driver,
    load: plan.load,
    ...(p.ramp ? { ramp: p.ramp } : {}),
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
    bootstrap: broker.bootstrap.join(','),
    start_at: new Date(plan.startAt).toISOString(),
    generators: plan.generators.map((g) => ({ id: g.id, host: g.host, rate: g.rate })),
    ...broker.settings,
  };
}

export async function runIngest(ctx: RunContext<IngestConfig, IngestArgs>): Promise<IngestOutcome> {
  const broker = checkCluster(ctx);
  const p = ctx.config;
  const id = ctx.newRunId();
  const planOf = (): IngestPlan =>
    planIngest({ name: ctx.experiment.name, ingest: p }, ctx.hosts, {
      runId: id,
      bootstrap: broker.bootstrap,
      defaults: broker.defaults,
      ...(ctx.args.startLeadS !== undefined ? { startLeadS: ctx.args.startLeadS } : {}),
    });
  const plan = planOf();
  const run = ctx.startRun(parametersOf(p, plan, broker), { id });
  run.record.files = ['manifest.yaml', 'plan.json'];
  ctx.progress(
    `run ${id}: ${p.ramp ? `a ramp of ${p.ramp.length} steps (${p.ramp.map((x) => x.load).join(' → ')} msg/s, ${p.ramp[0]!.duration} s each)` : `${p.load} msg/s`} of ${p.message_size} B over ${p.instances} ${p.driver} generator(s) on ${new Set(plan.generators.map((g) => g.host)).size} worker(s), ${p.partitions} partitions, acks=${p.acks}; warm-up ${p.warmup} s, measure ${plan.durationS} s`,
  );
  const stop = new AbortController();
  let reason: StopReason;
  const onUser = (): void => {
    reason ??= { kind: 'user' };
    stop.abort();
  };
  if (ctx.signal?.aborted) onUser();
  ctx.signal?.addEventListener('abort', onUser, { once: true });
  let failure: unknown;
  let sharedStart: number | undefined;
  const k8s: { pods?: Record<string, string> } = {};
  // The topic is created while the generators start (they wait for it; the shared start waits for
  // it too). It is deleted afterwards only when this run created or reused it.
  let topicError: unknown;
  const syncs: Record<string, BrokerSync> = {};
  const topic: Promise<boolean> = prepare(ctx, broker, plan, stop.signal, syncs).then(
    () => true,
    (e: unknown) => {
      topicError = e;
      stop.abort();
      return false;
    },
  );
  try {
    sharedStart = await generate(ctx, run, broker, plan, stop, k8s, topic, {
      brokerDown: (m) => {
        reason ??= { kind: 'broker', message: m };
        ctx.progress(`${m}: stopping the generators`);
        stop.abort();
      },
      startRefused: (m) => {
        reason ??= { kind: 'start_refused', message: m };
        ctx.progress(`${m}: stopping the generators`);
        stop.abort();
      },
    });
    await topic;
    if (topicError !== undefined) throw topicError;
  } catch (e) {
    await topic;
    failure = topicError ?? e;
  } finally {
    ctx.signal?.removeEventListener('abort', onUser);
  }
  return conclude(ctx, run, plan, { reason, failure, sharedStart, broker, syncs, ...(k8s.pods ? { k8sPods: k8s.pods } : {}) });
}

/**
 * The topic, while the generators start (a topic created is the run's even when it is stopped
 * meanwhile: the cleanup deletes it); beside it, the broker hosts' dirty pages written back
 * (`ingest.sync_brokers`). The shared start waits for both.
 */
async function prepare(ctx: RunContext<IngestConfig, IngestArgs>, broker: BrokerAccess, plan: IngestPlan, signal: AbortSignal, syncs: Record<string, BrokerSync>): Promise<void> {
  ctx.progress(`preparing: topic ${plan.topic} (${plan.partitions} partitions, replication ${plan.replicationFactor}, min ISR ${plan.minInsyncReplicas})`);
  const sync = async (h: WorkHost): Promise<void> => {
    const r = await ctx.executor.run(h, syncScript(), { timeoutMs: 300_000, signal });
    if (r.code !== 0) throw new RunError('ingest.sync_brokers', `sync on broker host ${h.name} failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}; set ingest.sync_brokers: false to skip it`);
    const s = parseSync(r.stdout, h.name);
    syncs[h.name] = s;
    ctx.progress(syncLine(h.name, s));
  };
  const [said] = await Promise.all([broker.createTopic(topicOf(plan), signal), ...(ctx.config.sync_brokers ? hostsInRole({ hosts: ctx.hosts }, 'broker').map(sync) : [])]);
  if (said) ctx.progress(`topic: ${said.split('\n').pop()}`);
}

const topicOf = (plan: IngestPlan) => ({ name: plan.topic, partitions: plan.partitions, replicationFactor: plan.replicationFactor, minInsyncReplicas: plan.minInsyncReplicas });

/** The command line of one generator on its host (this machine's node and dist/, as on the local platform's shared filesystem). */
function generatorCommand(dir: string, g: GeneratorPlan): string {
  return shJoin([process.execPath, join(PROJECT_ROOT, 'dist', 'entrypoint.js'), 'loadgen', '--plan', `${dir}/plan.json`, '--instance', g.id, '--summary', `${dir}/${g.id}.json`]);
}

/**
 * The generators from start to stop: plan.json on each worker, targets published, each started in
 * its own process group, the shared start sent, then waited for until the deadline (or a stop);
 * always: targets withdrawn, generators stopped (a stopped generator writes a partial summary),
 * summaries and logs fetched, the topic deleted. Returns the shared start, when one was sent.
 */
async function generate(
  ctx: RunContext<IngestConfig, IngestArgs>,
  run: RunHandle,
  broker: BrokerAccess,
  plan: IngestPlan,
  stop: AbortController,
  k8sOut: { pods?: Record<string, string> },
  topic: Promise<boolean>,
  ends: { brokerDown: (m: string) => void; startRefused: (m: string) => void },
): Promise<number | undefined> {
  const byName = new Map(ctx.hosts.map((h) => [h.name, h]));
  const hostOf = (g: GeneratorPlan): WorkHost => byName.get(g.host)!;
  const token = randomBytes(24).toString('base64url');
  // On Kubernetes the perf-test driver runs in the Kafka image, with its jars (ingest/k8s.ts).
  const kafkaLibs = ctx.executor instanceof K8sExecutor ? KAFKA_IMAGE_LIBS : broker.clientLibs;
  const lg = loadgenPlan(plan, { token, files: (g) => ({ dir: hostDir(hostOf(g), plan.runId), summary: `${hostDir(hostOf(g), plan.runId)}/${g.id}.json` }), ...(kafkaLibs ? { kafkaLibs } : {}) });
  const planJson = JSON.stringify(lg, null, 2) + '\n';
  const serve = ctx.args.kept && !(ctx.executor instanceof K8sExecutor) ? ' --serve' : '';
  const commands = Object.fromEntries(plan.generators.map((g) => [g.id, generatorCommand(hostDir(hostOf(g), plan.runId), g) + serve]));
  writeFileAtomic(join(run.dir, 'plan.json'), planJson.replace(token, '<per-run token, not recorded>'));
  const workers = [...new Set(plan.generators.map(hostOf))];
  const started: Started[] = [];
  const served: Served[] = [];
  const k8s = ctx.executor instanceof K8sExecutor ? ctx.executor : undefined;
  let jobs: GeneratorJobs | undefined;
  let exited = false; // every generator ended by itself: nothing to stop
  const deadlineMs = deadlineS(plan) * 1000;
  const watch = watchRun(plan, { token, deadlineMs, stop: stop.signal, progress: (l) => ctx.progress(l), gate: topic, ...ends });
  try {
    ctx.progress('starting the generators; they start together once all have reached the brokers');
    // Prometheus' targets beside the starts; on the hosts' runtime each generator's start writes
    // its plan.json in the same SSH round trip (on Kubernetes the plans are written first).
    const scraped = ctx.scrape('loadgen', plan.scrape.targets).then((h) => void (plan.scrape.host = h));
    scraped.catch(() => undefined); // awaited below
    // Atomically: a run stopped while writing leaves the old manifest or the whole new one, never half.
    const manifest = (): void => writeFileAtomic(join(run.dir, 'manifest.yaml'), renderManifest(plan, { commands }));
    // All generators at once (each start is one SSH round trip, bounded by its own timeout); each
    // recorded as soon as it runs. A stop does not cut a start short: a generator whose start was
    // cancelled would run on, unrecorded; a started one is stopped by the cleanup.
    let done: boolean;
    if (k8s) {
      await Promise.all([Promise.all(workers.map((h) => ctx.executor.put(h, `${hostDir(h, plan.runId)}/plan.json`, planJson, { mode: '0600' }))), scraped]);
      manifest();
      // On Kubernetes: one Job per generator on its planned worker node (ingest/k8s.ts).
      jobs = await startGeneratorJobs(k8s, plan, { hostOf, dirOf: (h) => hostDir(h, plan.runId), grace: 10, signal: stop.signal });
      for (const g of plan.generators) ctx.place(run, hostOf(g), `loadgen ${g.id}`);
      k8sOut.pods = await jobs.pods().catch(() => ({}));
      if (stop.signal.aborted) throw new InterruptedError('interrupted while starting the generators');
      done = await jobs.wait({ timeoutMs: Math.max(5000, deadlineMs - Date.now()), signal: stop.signal });
    } else {
      const kept = ctx.args.kept;
      const starts = await Promise.allSettled(
        plan.generators.map(async (g) => {
          const h = hostOf(g);
          const dir = hostDir(h, plan.runId);
          const k = kept?.get(g, ctx.executor);
          if (k) {
            // Kept up from an earlier run of the campaign: the plan handed over, no process started.
            const r = await handOver(k, lg, g, `${dir}/${g.id}.json`);
            if ('run' in r) {
              served.push({ g, kept: k, run: r.run });
              ctx.place(run, h, `loadgen ${g.id} (kept up)`);
              return;
            }
            ctx.progress(`generator ${g.id} kept up did not take the plan (${r.refused}): starting it again`);
            await kept!.drop([k], 2);
          }
          const s = await ctx.executor.start({ host: h, name: `loadgen-${g.id}`, command: commands[g.id]!, dir, file: { path: `${dir}/plan.json`, content: planJson, mode: '0600' } });
          if (kept) {
            const nk: KeptGenerator = { started: s, base: controlBase(g), serveToken: token };
            kept.add(g, ctx.executor, nk);
            served.push({ g, kept: nk, run: 1 });
          } else started.push(s);
          ctx.place(run, h, `loadgen ${g.id}`);
        }),
      );
      await scraped.catch(() => undefined);
      manifest();
      const failedStart = starts.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failedStart) throw failedStart.reason;
      await scraped;
      if (stop.signal.aborted) throw new InterruptedError('interrupted while starting the generators');
      const timeoutMs = Math.max(5000, deadlineMs - Date.now());
      const [a, b] = await Promise.all([
        started.length ? ctx.executor.wait(started, { timeoutMs, signal: stop.signal }) : true,
        served.length ? waitServed(served, { timeoutMs, signal: stop.signal }) : true,
      ]);
      done = a && b;
    }
    exited = done;
    if (!done && !stop.signal.aborted) throw new RunError('ingest.deadline', `generators still running at the run's deadline (${new Date(deadlineMs).toISOString()})`);
  } finally {
    watch.stop();
    await cleanup(ctx, run, broker, plan, exited ? [] : started, hostOf, topic, k8s && { ...(jobs ? { jobs } : {}), exited, executor: k8s }, { served, ended: exited && !stop.signal.aborted });
  }
  return watch.sharedStart;
}

/**
 * The `always` part: bounded, best effort, each step whatever the others did. Side by side: the
 * targets withdrawn; the generators still running stopped (`running`; none when all ended by
 * themselves), then their summaries and logs fetched and the topic deleted.
 */
async function cleanup(
  ctx: RunContext<IngestConfig, IngestArgs>,
  run: RunHandle,
  broker: BrokerAccess,
  plan: IngestPlan,
  running: Started[],
  hostOf: (g: GeneratorPlan) => WorkHost,
  topic: Promise<boolean>,
  k8s: { jobs?: GeneratorJobs; exited: boolean; executor: K8sExecutor } | undefined,
  keep: { served: Served[]; ended: boolean },
): Promise<void> {
  const warn = (what: string) => (e: unknown) => ctx.progress(`cleanup: ${what}: ${errorMessage(e)}`);
  const generators = async (): Promise<void> => {
    if (running.length) await ctx.executor.stop(running, { graceSeconds: 10 }).catch(warn('stopping the generators'));
    // Kept-up generators stay up for the next run only after a run that ended by itself; else stopped
    // like any (a stopped one writes its partial summary).
    if (keep.served.length && !keep.ended) await ctx.args.kept?.drop(keep.served.map((s) => s.kept)).catch(warn('stopping the generators'));
    if (k8s?.jobs && !k8s.exited) await k8s.jobs.stop(10).catch(warn('stopping the generators\' Jobs'));
    await Promise.all([
      ...plan.generators.flatMap((g) => {
        const dir = hostDir(hostOf(g), plan.runId);
        return [
          ctx.executor.fetch(hostOf(g), `${dir}/${g.id}.json`, join(run.dir, 'summaries', `${g.id}.json`)).catch(() => undefined),
          // A kept-up generator writes each later run's log lines here too (loadgen --serve).
          ctx.executor.fetch(hostOf(g), `${dir}/loadgen-${g.id}.log`, join(run.dir, 'logs', `${g.id}.log`)).catch(() => undefined),
        ];
      }),
      // Never a topic this run did not create or reuse (one with other settings stays as it was).
      plan.deleteTopic ? topic.then((ours) => (ours ? broker.deleteTopic(topicOf(plan)) : undefined)).catch(warn(`deleting topic ${plan.topic}`)) : undefined,
    ]);
  };
  await Promise.all([ctx.scrape('loadgen', []).catch(warn('withdrawing the generators from Prometheus')), generators()]);
  // On Kubernetes: every object of the run (its Jobs and their ended pods) deleted by the run's label.
  if (k8s) await k8s.executor.cleanup(plan.runId).catch(warn('deleting the run\'s Jobs'));
}

function readPackageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Results, energy, versions; the record finished (and its CSV line); the outcome, or the error that ended the run. */
async function conclude(
  ctx: RunContext<IngestConfig, IngestArgs>,
  run: RunHandle,
  plan: IngestPlan,
  o: { reason: StopReason; failure: unknown; sharedStart: number | undefined; broker: BrokerAccess; syncs: Record<string, BrokerSync>; k8sPods?: Record<string, string> },
): Promise<IngestOutcome> {
  const rec = run.record;
  const summaries = readSummaries(run.dir);
  const merged = summaries.length ? mergeSummaries(summaries) : undefined;
  const error = runError(o.reason, o.failure, plan, summaries);
  rec.results = {};
  if (o.k8sPods) rec.results.k8s = { generators: o.k8sPods };
  if (merged && o.sharedStart === undefined) rec.results.note = 'stopped before the generators started: nothing was measured';
  const measured = merged && o.sharedStart !== undefined ? merged : undefined;
  if (measured) {
    const window = windowOf(measured, o.sharedStart!);
    rec.window = window;
    Object.assign(rec.results, ingestResults(plan, summaries, measured, error === undefined, window));
  }
  if (Object.keys(o.syncs).length) {
    rec.results.broker_sync = o.syncs;
    const brokers = hostsInRole({ hosts: ctx.hosts }, 'broker').length;
    const v = measured && rec.window ? pageCacheVerdict({ messages: measured.counts.acked + measured.warmup.acked, messageSize: plan.messageSize, replication: plan.replicationFactor, brokers, seconds: rec.window.end - o.sharedStart! / 1000, syncs: Object.values(o.syncs) }) : undefined;
    if (v) {
      rec.results.page_cache = v;
      if (v.absorbed) ctx.progress(absorbedNote(v));
    }
  }
  rec.files = ['manifest.yaml', 'plan.json', ...summaries.map((s) => `summaries/${s.instance}.json`), ...plan.generators.map((g) => `logs/${g.id}.log`)];
  rec.hosts = ctx.hosts.map((h) => ({ name: h.name, address: h.address, roles: h.roles }));
  const facts = await ctx.hostFacts(ctx.hosts).catch(() => undefined);
  if (facts) rec.hosts = facts.map((f, i) => ({ ...f, name: ctx.hosts[i]!.name, address: ctx.hosts[i]!.address, roles: ctx.hosts[i]!.roles }));
  rec.versions = {
    greenrace: readPackageVersion(),
    node: process.version,
    loadgen_client: summaries[0] ? `${summaries[0].client.name} ${summaries[0].client.version}` : 'unknown',
    broker: o.broker.version,
  };
  const recordPath = join(run.dir, 'run.json');
  const phases = (end: number): void => {
    if (rec.window && o.sharedStart !== undefined) rec.phases = runPhases({ start: ctx.createdAt, sharedStart: o.sharedStart, windowStart: rec.window.start * 1000, windowEnd: rec.window.end * 1000, end });
  };
  const outcome: IngestOutcome = { record: rec, recordPath, plan, ...(merged ? { merged } : {}) };
  // Window recorded and pushed, energy accounted (idle from the baseline, dynamic), by the context.
  const account = async (): Promise<void> => {
    if (!measured || !rec.window) return;
    const a = await ctx.closeWindow(run, rec.window);
    Object.assign(rec.results!, energyResults(a, rec.energy, measured));
  };
  if (ctx.args.deferEnergy && error === undefined && measured) {
    // Handed back now: collect ends here; the account (mostly waiting for Prometheus' scrapes) overlaps the next run.
    const handedBack = Date.now();
    phases(handedBack);
    rec.status = 'completed'; // what it will be: only a run without error is handed back (endedAt, CSV line: when settled)
    run.save();
    const settled = (async (): Promise<IngestOutcome> => {
      await account();
      if (rec.phases) rec.phases.energy_s = Math.round(Date.now() - handedBack) / 1000;
      ctx.finishRun(run, undefined);
      return outcome;
    })();
    return { ...outcome, settled };
  }
  await account();
  phases(Date.now());
  ctx.finishRun(run, error);
  if (rec.status === 'aborted') {
    throw Object.assign(new InterruptedError(`ingest run ${rec.id} stopped; the record is saved (status aborted): ${relative(process.cwd(), recordPath)}`), { outcome });
  }
  if (rec.status === 'failed') {
    throw Object.assign(new RunError(rec.error?.code ?? 'ingest.failed', `ingest run ${rec.id} failed: ${rec.error?.message ?? 'unknown'}; the record is saved: ${relative(process.cwd(), recordPath)}`), { outcome });
  }
  return outcome;
}
