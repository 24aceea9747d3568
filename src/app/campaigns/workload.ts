/**
 * How campaigns run one run of a workload with config overrides, and tag its record with the
 * campaign it belongs to.
 *
 * Today this goes through app/ingest.ts: ingest is the one workload with a load knob and a
 * throughput figure. When the workload registry lands (issue 11), this file takes the workload
 * from the registry (its flags give the load path, its record gives the figures) and nothing else
 * in campaigns changes.
 */
import { parseSet } from '../../config/loader.js';
import { loadExperiment } from '../../experiment/load.js';
import { GreenraceError, InterruptedError, UsageError } from '../../core/errors.js';
import type { RecordLike } from '../../campaigns/figures.js';
import { loadRunRecord, saveRunRecord, type RunRecord } from '../../runs/record.js';
import { runIngest } from '../ingest.js';

export interface CampaignWorkload {
  name: string;
  /** The config path a search varies, and its unit. */
  loadPath: string;
  unit: string;
  reportsBacklog: boolean;
  reportsP99: boolean;
  hasConsumer: boolean;
  /** The config section whose keys never need the cluster set up again. */
  section: string;
}

const INGEST: CampaignWorkload = {
  name: 'ingest',
  loadPath: 'ingest.load',
  unit: 'msg/s',
  reportsBacklog: true,
  reportsP99: true,
  hasConsumer: false,
  section: 'ingest',
};

/** The workload campaigns run for an experiment (`--workload` when there is a choice). */
export function campaignWorkload(name = 'ingest'): CampaignWorkload {
  if (name !== 'ingest') {
    throw new UsageError('campaign.no_load_knob', `workload ${name} cannot be searched or swept yet: campaigns need a load knob and a throughput figure, which only ingest declares today`);
  }
  return INGEST;
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
  loadExperiment(exp, { set, overrides: Object.entries(overrides).map(([path, value]) => ({ path, value, flag: label(path) })) });
}

export interface TaggedRun {
  record: RecordLike;
  /** The run failed or stopped; its record is saved with that status. */
  error?: GreenraceError;
}

/**
 * One run with overrides; its record gets `campaign` (kind, id, point / repetition / trial) and is
 * saved again. An interrupted run is tagged, then the interruption is thrown on.
 */
export async function runTagged(
  exp: string,
  set: string[],
  overrides: Record<string, unknown>,
  campaign: NonNullable<RecordLike['campaign']>,
  opts: { signal?: AbortSignal; progress?: (l: string) => void },
): Promise<TaggedRun> {
  const tag = (rec: RunRecord): RecordLike => {
    const tagged = { ...rec, campaign } as RunRecord & { campaign: typeof campaign };
    saveRunRecord(tagged);
    return tagged as unknown as RecordLike;
  };
  try {
    const o = await runIngest({
      experiment: exp,
      flags: {},
      set: [...set, ...overrideSets(overrides)],
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { record: tag(o.record) };
  } catch (e) {
    const outcome = (e as { outcome?: { record: RunRecord } }).outcome;
    if (!outcome) throw e;
    const record = tag(loadRunRecord(outcome.record.experiment, outcome.record.id));
    if (e instanceof InterruptedError) throw e;
    return { record, error: e as GreenraceError };
  }
}
