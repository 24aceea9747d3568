/**
 * How campaigns run one run of a workload with config overrides, tagged with the campaign it
 * belongs to. The workload comes from the registry (src/workloads/registry.ts): one that declares
 * `campaign` (its load knob, unit, and what its records report) can be searched and swept. Each run
 * goes through the run context (src/app/context.ts) like any run command: the experiment loaded
 * with the overrides, the phase checked, the record written `running` with its `campaign` tag from
 * the start and finished completed / failed / aborted by the context.
 */
import { parseSet } from '../../config/loader.js';
import { loadExperiment } from '../../experiment/load.js';
import { GreenraceError, InterruptedError, RunError, UsageError, errorMessage } from '../../core/errors.js';
import type { RecordLike } from '../../campaigns/figures.js';
import type { CampaignTag } from '../../runs/record.js';
import type { CampaignSpec, Workload } from '../../workloads/contract.js';
import { WORKLOADS } from '../../workloads/registry.js';
import type { Executor } from '../../runtimes/executor.js';
import { KeptGenerators } from '../../workloads/ingest/kept.js';
import { createContext } from '../context.js';
import { lockState } from '../state.js';

export interface CampaignWorkload extends CampaignSpec {
  name: string;
  /** The config section whose keys never need the cluster set up again. */
  section: string;
  workload: Workload<unknown, unknown, unknown>;
}

/** The workloads of the registry that declare a load knob. */
export function campaignWorkloads(): string[] {
  return WORKLOADS.filter((w) => 'campaign' in w && w.campaign).map((w) => w.name);
}

/** The workload campaigns run (`workload:` of a campaign section; ingest by default), from the registry. */
export function campaignWorkload(name = 'ingest'): CampaignWorkload {
  const w = WORKLOADS.find((x) => x.name === name) as Workload<unknown, unknown, unknown> | undefined;
  const can = campaignWorkloads().join(', ');
  if (!w) throw new UsageError('campaign.unknown_workload', `workload ${name} does not exist; campaigns can run: ${can}`);
  const key = w.section?.key ?? w.reads;
  if (!w.campaign || !key) {
    throw new UsageError('campaign.no_load_knob', `workload ${name} cannot be searched or swept: campaigns need a load knob and a throughput figure, which only ${can} declare${campaignWorkloads().length === 1 ? 's' : ''}`);
  }
  return { ...w.campaign, name: w.name, section: key, workload: w };
}

/** `path=value` strings for the loader (values as YAML, which JSON is). */
export function overrideSets(overrides: Record<string, unknown>): string[] {
  return Object.entries(overrides).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

/**
 * Check that an experiment with these overrides is valid, before anything runs. `label` names where
 * the overrides come from (`--grid ingest.message_size`, `search`), so the message points at them.
 */
export function checkOverrides(exp: string, set: string[], overrides: Record<string, unknown>, label: (path: string) => string): void {
  for (const s of set) parseSet(s);
  loadExperiment(exp, { set, overrides: typedOverrides(overrides, label) });
}

function typedOverrides(overrides: Record<string, unknown>, label: (path: string) => string): Array<{ path: string; value: unknown; flag: string }> {
  return Object.entries(overrides).map(([path, value]) => ({ path, value, flag: label(path) }));
}

export interface TaggedRun {
  record: RecordLike;
  /** The run failed or stopped; its record is saved with that status. */
  error?: GreenraceError;
}

/** Runs handed back before their energy account: each settles beside the next run, or in settleRuns(). */
let unsettled: Array<Promise<unknown>> = [];

/**
 * Wait for the energy accounts still running (the last run's): the records finished, their CSV
 * lines written. Campaigns call it before their final save and on the way out.
 */
export async function settleRuns(): Promise<void> {
  const pending = unsettled;
  unsettled = [];
  await Promise.allSettled(pending);
  await releaseRunConnections();
}

/**
 * The executor (its SSH connections to the hosts) the campaign's runs share, kept from one run to
 * the next of the same experiment and runtime so each run does not connect again; closed by
 * releaseRunConnections() (settleRuns() calls it: at the campaign's end, on an error or Ctrl-C),
 * and before a setup changes the cluster under it.
 */
let shared: { key: string; executor: Executor } | undefined;

/**
 * The ingest generators kept up between the campaign's runs (workloads/ingest/kept.ts), started
 * through the shared executor; stopped by releaseRunConnections() before it closes the connections.
 */
let kept = new KeptGenerators();

/** Stop the kept-up generators and close the connections the campaign's runs shared (see `shared`). */
export async function releaseRunConnections(): Promise<void> {
  const s = shared;
  shared = undefined;
  const k = kept;
  kept = new KeptGenerators();
  await k.release();
  await s?.executor.close().catch(() => undefined);
}

/** Which runs may share an executor: the same experiment state and runtime (overrides of neither). */
const shareKey = (ctx: { experiment: { name: string; runtime: string }; stateDir?: string }): string => `${ctx.stateDir ?? ''}|${ctx.experiment.name}|${ctx.experiment.runtime}`;

/**
 * One run of the campaign's workload with overrides, through a run context whose runs carry
 * `campaign` (kind, id, point / repetition / trial). The experiment is locked for the run (so
 * another command cannot interleave); an interrupted run's record is saved `aborted` by the context
 * and the interruption is thrown on. A completed ingest run is handed back before its energy account
 * (`deferEnergy`): the account, mostly a wait for Prometheus' scrapes past the window, runs while the
 * next run prepares and completes the same record object in place; this call returns once the
 * previous run's account is done too (settleRuns() for the last one).
 */
export async function runTagged(
  wl: CampaignWorkload,
  exp: string,
  set: string[],
  overrides: Record<string, unknown>,
  campaign: CampaignTag,
  opts: { signal?: AbortSignal; progress?: (l: string) => void },
): Promise<TaggedRun> {
  const label = campaign.kind === 'sweep' ? `sweep ${campaign.id} point ${campaign.point ?? ''}` : `search ${campaign.id} trial ${campaign.trial ?? ''}`;
  const contextOptions = {
    exp,
    set,
    overrides: typedOverrides(overrides, (p) => `${label} (${p})`),
    campaign,
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  let ctx = createContext(wl.workload, { deferEnergy: true, kept }, shared ? { ...contextOptions, executor: shared.executor } : contextOptions);
  if (shared && shared.key !== shareKey(ctx)) {
    // Another experiment or runtime: the kept connections are of no use to it.
    await releaseRunConnections();
    ctx = createContext(wl.workload, { deferEnergy: true, kept }, contextOptions);
  }
  let error: unknown;
  const before = unsettled;
  unsettled = [];
  const lock = lockState(ctx.experiment.name, `entrypoint ${campaign.kind} ${ctx.experiment.name}`);
  try {
    const out = (await wl.workload.run(ctx)) as { settled?: Promise<unknown> } | undefined;
    if (out?.settled) unsettled.push(out.settled);
  } catch (e) {
    error = e;
  } finally {
    lock.release();
    // Kept for the campaign's next run (a context given an executor does not close it).
    if (shared?.executor !== ctx.executor) shared = { key: shareKey(ctx), executor: ctx.executor };
    // The previous run's energy account ran beside this run's prepare: its record is finished now.
    await Promise.allSettled(before);
  }
  const run = ctx.runs[ctx.runs.length - 1];
  if (!run) {
    // Nothing started (a check before the run failed): nothing to record, the error goes on.
    if (error !== undefined) throw error;
    throw new RunError('campaign.no_run', `workload ${wl.name} returned without starting a run`);
  }
  const record = run.record as unknown as RecordLike;
  const ph = run.record.phases;
  if (ph) opts.progress?.(`time: prepare ${ph.prepare_s.toFixed(1)} s, warm-up ${ph.warmup_s.toFixed(1)} s, measure ${ph.measure_s.toFixed(1)} s, collect ${ph.collect_s.toFixed(1)} s (overhead ${ph.overhead_s.toFixed(1)} s)`);
  if (error === undefined) return { record };
  if (error instanceof InterruptedError || opts.signal?.aborted) {
    // The interruption goes on, carrying the (aborted) record so the campaign can list it.
    throw Object.assign(error instanceof GreenraceError ? error : new InterruptedError(), { record });
  }
  return { record, error: error instanceof GreenraceError ? error : new RunError('campaign.run_failed', errorMessage(error), { cause: error }) };
}
