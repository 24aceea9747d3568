/**
 * The campaign sections of an experiment file: `sweep:` (factors, repetitions, order, ...) and
 * `search:` (strategy, bounds, SLO, trial length), so a campaign can be declared beside the
 * experiment it runs on. The command's flags override them key by key; src/experiment assembles
 * these sections into the experiment schema like the plug-ins' own.
 *
 * ```yaml
 * sweep:
 *   factors:
 *     ingest.message_size: [512, 4096]
 *     ingest.partitions: [1, 3]
 *   repetitions: 3
 * search:
 *   trial_warmup: 2s
 *   trial_duration: 8s
 *   slo: {min_ratio: 0.95, p99_ms: 50}
 * ```
 */
import { z } from 'zod';
import { count, duration } from '../config/schema/common.js';
import { STRATEGIES } from './search/strategy.js';

/** The default wait after a failing trial, seconds (bench/search/carryover.mjs: what recovery took here). */
export const COOLDOWN_DEFAULT_S = 60;

const factorValue = z.union([z.string(), z.number(), z.boolean()]);

export const sweepSchema = z
  .strictObject({
    /** The workload each run is (one whose registry entry declares a load knob). */
    workload: z.string().default('ingest'),
    /** Config path → its values; `ingest.load: [max]` runs a search per point. */
    factors: z.record(z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*$/i, 'a config path such as ingest.message_size or runtime'), z.array(factorValue).min(1, 'needs at least one value')).default({}),
    repetitions: count(1, 1000).default(3),
    order: z.enum(['sequential', 'random']).default('sequential'),
    /** Seed of the random order (the same seed gives the same order). */
    seed: count(0, 2 ** 31 - 1).default(1),
    /** An idle window between runs, recorded as a baseline (seconds or "30s"). */
    idle_between: duration({ min: 0, max: 86400 }).default(0),
    /** A point whose coefficient of variation exceeds this fraction is flagged. */
    cv_threshold: z.number().positive().default(0.1),
  })
  .prefault({});

export const sloSchema = z
  .strictObject({
    /** Achieved ≥ this × target over the measurement window. */
    min_ratio: z.number().positive().max(1).default(0.95),
    /** Check that the run left no backlog: nothing unacknowledged, nothing unsent that was due more than backlog_grace before the end. */
    no_backlog: z.boolean().default(true),
    /** Messages tolerated in that backlog. */
    max_backlog: count(0, Number.MAX_SAFE_INTEGER).default(0),
    /** Unsent messages due less than this before the end are the pipeline's tail, not backlog (default: p99_ms when set, else 250 ms). */
    backlog_grace: duration({ min: 0, max: 3600 }).optional(),
    /** p99 latency bound, ms. */
    p99_ms: z.number().positive().optional(),
    /** Consumer-lag slope bound, messages/s (needs a consumer). */
    max_lag_slope: z.number().positive().optional(),
  })
  .prefault({});

export const searchSchema = z
  .strictObject({
    workload: z.string().default('ingest'),
    strategy: z.enum(STRATEGIES as unknown as [string, ...string[]]).default('knee'),
    /** First load (double-bisect) / probe base (knee); default: the workload's load. */
    start: z.number().positive().optional(),
    /** Final bracket: high − low ≤ precision × low. */
    precision: z.number().positive().max(0.5).default(0.05),
    min_load: z.number().positive().default(1),
    max_load: z.number().positive().default(1_000_000),
    max_trials: count(2, 1000).default(15),
    /** Knee: the overload probe is this many times the start (when the workload cannot ramp, or ramp: false). */
    probe_factor: z.number().gt(1).default(8),
    /** Knee: find the knee with one ramp trial (the rate raised in steps inside one run) when the workload can. */
    ramp: z.boolean().default(true),
    /** The ramp's steps: start, start × factor, start × factor², … (8 × 2: start to 128 × start in one trial). */
    ramp_steps: count(2, 20).default(8),
    ramp_factor: z.number().gt(1).max(10).default(2),
    /** Each step's duration (default: half the trial duration, at least 2 s). */
    ramp_step: duration({ min: 0.5, max: 86400 }).optional(),
    /** Warm-up and measured duration of each trial (default: the workload's). */
    trial_warmup: duration({ min: 0, max: 86400 }).optional(),
    trial_duration: duration({ min: 1, max: 7 * 86400 }).optional(),
    /**
     * Knee: a failure within this fraction above a passing load (or below one) is retried before it
     * bounds the bracket; the majority of the load's trials decides (0: one trial, one verdict).
     * double-bisect ignores it (GreenFlow's rule: every trial's verdict counts once).
     */
    confirm_within: z.number().min(0).max(1).default(0.1),
    /**
     * Wait this long after a failing trial (a ramp always ends past the knee) before the next one:
     * an overloaded broker carries less for a while afterwards (docs/campaigns.md, "Cool-down").
     * Both strategies wait the same. 0: no waiting.
     */
    cooldown: duration({ min: 0, max: 3600 }).default(COOLDOWN_DEFAULT_S),
    slo: sloSchema,
  })
  .prefault({});

/** The campaign sections by key, assembled into the experiment schema. */
export const CAMPAIGN_SECTIONS = { sweep: sweepSchema, search: searchSchema } as const;

export type SweepSection = z.output<typeof sweepSchema>;
export type SearchSection = z.output<typeof searchSchema>;
