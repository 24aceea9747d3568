/**
 * The load-generator hand-off: what generator instances need, as data, validated by ONE zod schema
 * with ONE set of bounds. The ingest run writes `plan.json` in the run folder with this shape and
 * starts each instance as
 *
 *   node <dist>/entrypoint.js loadgen --plan <plan.json> --instance <id> --summary <file>
 *
 * The flag form of `entrypoint loadgen` (direct use, bench/loadgen) builds the same object from its
 * flags and validates it here too: no bound is written anywhere else.
 *
 * Start trigger and its token (issue 13 item 17): a generator without a fixed `shared.startAt`
 * connects, answers `GET /ready` on its control port, and waits for the controller's
 * `POST /start?at=<epoch ms>` carrying the header
 *
 *   Authorization: Bearer <shared.control.token>
 *
 * A missing or wrong token is refused with 403 and does not start anything. The control/metrics
 * server listens on the generator entry's `control.address` (the host's experiment address), never
 * on a wildcard unless the plan says so. The token is per run and only valid while that run's
 * generators live; it is never logged.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { count, duration, memSize } from '../config/schema/common.js';
import { formatIssue } from '../config/format-issues.js';
import { ConfigError } from '../core/errors.js';
import { ACKS, DRIVER_NAMES, KEY_MODES, LOADGEN_BOUNDS, LOADGEN_DEFAULTS as D, START_TOKEN_HEADER, START_TOKEN_SCHEME } from './limits.js';

export const LOADGEN_PLAN_SCHEMA = 'greenrace.loadgen-plan/1';
export { START_TOKEN_ENV, START_TOKEN_HEADER, START_TOKEN_SCHEME, LOADGEN_BOUNDS, LOADGEN_DEFAULTS } from './limits.js';
export type { Acks, KeyMode } from './limits.js';

const B = LOADGEN_BOUNDS;
const between = (b: { min: number; max: number }) => z.number().min(b.min).max(b.max);
const intBetween = (b: { min: number; max: number }) => count(b.min, b.max);


/** Target rate of one instance, msg/s; 0 = as fast as the client and brokers go (unthrottled). */
export const rateSchema = between(B.rate);
export const messageSizeSchema = intBetween(B.messageSize);
export const topicSchema = z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, 'a Kafka topic name (letters, digits, . _ -; at most 200)');
export const acksSchema = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.enum(ACKS));
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:,[\]]+):\d{1,5}$/, 'host:port');
/** Bootstrap servers: a list, or one string `host:port,host:port`. */
export const bootstrapSchema = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(hostPort).min(1, 'at least one host:port'),
);
const instanceId = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, . _ - (at most 100)');
/** Per-run start token: long enough not to be guessed, safe in an HTTP header. */
export const startTokenSchema = z.string().regex(/^[A-Za-z0-9._~+/=-]{16,512}$/, '16 to 512 characters of [A-Za-z0-9._~+/=-]');

/** The native generator (@platformatic/kafka, open-loop schedule). */
export const nativeDriverSchema = z.strictObject({
  name: z.literal('native'),
  /** Produce requests in flight at once on each broker connection (like max.in.flight.requests.per.connection). */
  maxInflight: intBetween(B.maxInflight).default(D.maxInflight),
  /** Connections to each broker (one client each; requests go to the least busy). */
  connections: intBetween(B.connections).default(D.connections),
  clientId: z.string().min(1).optional(),
});

/** Kafka's ProducerPerformance (kafka-producer-perf-test), closed-loop. */
export const perfTestDriverSchema = z.strictObject({
  name: z.literal('perf-test'),
  /** Folder with kafka-tools-<version>.jar and its dependencies, on the generator's host. */
  kafkaLibs: z.string().min(1),
  java: z.string().min(1).default(D.java),
  heap: memSize.default(D.heap),
});

export const driverSchema = z.discriminatedUnion('name', [nativeDriverSchema, perfTestDriverSchema]);
export type DriverSettings = z.output<typeof driverSchema>;
export type DriverName = DriverSettings['name'];
export { DRIVER_NAMES };

export const timeoutsSchema = z
  .strictObject({
    /** Timeout of one produce request. */
    requestMs: intBetween(B.requestMs).default(D.requestMs),
    /** Fail when no acknowledgement arrived for this long while sends were pending. */
    stallMs: intBetween(B.stallMs).default(D.stallMs),
    /** Bound on reaching the brokers before the start. */
    connectMs: intBetween(B.connectMs).default(D.connectMs),
    /** How long a ready generator waits for `POST /start` (no fixed `startAt`). */
    startMs: intBetween(B.startMs).default(D.startMs),
    /** Being ready later than this after the shared start fails the run (its backlog would burst). */
    maxLateMs: intBetween(B.maxLateMs).default(D.maxLateMs),
  })
  .prefault({});

/** Settings every generator of a run shares. */
export const sharedSettingsSchema = z.strictObject({
  bootstrap: bootstrapSchema,
  topic: topicSchema,
  messageSize: messageSizeSchema.default(D.messageSize),
  warmupS: duration(B.warmupS).default(D.warmupS),
  durationS: duration(B.durationS).default(D.durationS),
  acks: acksSchema.default(D.acks),
  keys: z.enum(KEY_MODES).default(D.keys),
  /** Wait up to this long to fill a batch (like linger.ms). */
  lingerMs: between(B.lingerMs).default(D.lingerMs),
  /**
   * Upper bound of one partition's batch, payload bytes (like batch.size; 0 = one message). A
   * produce request carries at most one batch per partition its broker leads.
   */
  batchBytes: intBetween(B.batchBytes).default(D.batchBytes),
  timeouts: timeoutsSchema,
  driver: driverSchema.default({ name: 'native', maxInflight: D.maxInflight, connections: D.connections }),
  /** A fixed shared start, epoch ms. Absent: each generator waits for `POST /start?at=`. */
  startAt: z.number().int().positive().optional(),
  /** The start trigger's token (see the header above); required in a plan file that uses the trigger. */
  control: z.strictObject({ token: startTokenSchema.optional() }).prefault({}),
});

/** One generator instance. */
export const generatorEntrySchema = z.strictObject({
  id: instanceId,
  /** Host it runs on (for the record). */
  host: z.string().min(1).optional(),
  rate: rateSchema,
  /**
   * A ramp inside one run: the measurement is these steps in turn, each at its own rate (msg/s of
   * this instance; the warm-up runs at the first), their durations summing to `shared.durationS`.
   * The summary reports achieved rate, latency and backlog per step. Native driver only.
   */
  steps: z.array(z.strictObject({ rate: between(B.rate).refine((r) => r > 0, 'must be > 0 (a ramp step is throttled)'), durationS: z.number().positive() })).min(2, 'a ramp has at least 2 steps').optional(),
  /**
   * Control/metrics HTTP server (`/metrics`, `/ready`, `POST /start`): the address to bind (the
   * host's experiment address) and the port (0 = any free port). Absent: no server.
   */
  control: z.strictObject({ address: z.string().min(1), port: intBetween(B.port) }).optional(),
  /** Where to write the JSON summary (`--summary` wins). */
  summary: z.string().min(1).optional(),
  /** perf-test: keep the tool's raw output here. */
  rawLog: z.string().min(1).optional(),
});

const planObject = z.strictObject({
  schema: z.literal(LOADGEN_PLAN_SCHEMA),
  runId: z.string().min(1).optional(),
  shared: sharedSettingsSchema,
  generators: z.array(generatorEntrySchema).min(1),
});

/** The whole hand-off. The flag form validates with this schema too. */
export const loadgenPlanSchema = planObject.superRefine((p, ctx) => {
  const seen = new Set<string>();
  p.generators.forEach((g, i) => {
    if (seen.has(g.id)) ctx.addIssue({ code: 'custom', path: ['generators', i, 'id'], message: `duplicate generator id ${JSON.stringify(g.id)}` });
    seen.add(g.id);
    if (p.shared.startAt === undefined && !g.control)
      ctx.addIssue({ code: 'custom', path: ['generators', i, 'control'], message: 'is required without shared.startAt (the generator waits for POST /start on it)' });
    if (g.steps) {
      const sum = g.steps.reduce((a, x) => a + x.durationS, 0);
      if (Math.abs(sum - p.shared.durationS) > 1e-6)
        ctx.addIssue({ code: 'custom', path: ['generators', i, 'steps'], message: `last ${sum} s in all but shared.durationS is ${p.shared.durationS} s (the steps are the measurement window)` });
      if (p.shared.driver.name !== 'native')
        ctx.addIssue({ code: 'custom', path: ['generators', i, 'steps'], message: `a ramp needs the native driver (${p.shared.driver.name} has one rate per run)` });
    }
  });
  if (p.shared.driver.name === 'perf-test' && p.shared.batchBytes > 0 && p.shared.batchBytes < p.shared.messageSize)
    ctx.addIssue({ code: 'custom', path: ['shared', 'batchBytes'], message: `(${p.shared.batchBytes}) is smaller than shared.messageSize (${p.shared.messageSize})` });
});

/** A plan file: the trigger, when used, must be authenticated. */
export const loadgenPlanFileSchema = loadgenPlanSchema.superRefine((p, ctx) => {
  if (p.shared.startAt === undefined && !p.shared.control.token)
    ctx.addIssue({ code: 'custom', path: ['shared', 'control', 'token'], message: `is required when the generators wait for POST /start (sent as "${START_TOKEN_HEADER}: ${START_TOKEN_SCHEME} <token>")` });
});

/** What the writer of plan.json gives (defaults may be left out). */
export type LoadgenPlanInput = z.input<typeof loadgenPlanSchema>;
/** The validated plan, defaults filled in. */
export type LoadgenPlan = z.output<typeof loadgenPlanSchema>;
export type SharedSettings = z.output<typeof sharedSettingsSchema>;
export type GeneratorEntry = z.output<typeof generatorEntrySchema>;
export type Timeouts = z.output<typeof timeoutsSchema>;

/** Everything one instance needs: the shared settings with its own entry. */
export interface GeneratorSettings extends Omit<SharedSettings, 'control'> {
  instance: string;
  host?: string;
  rate: number;
  /** A ramp: the measurement window's steps (see the plan's generator entry). */
  steps?: Array<{ rate: number; durationS: number }>;
  control?: { address: string; port: number; token?: string };
  summary?: string;
  rawLog?: string;
}

/** Validate a plan; `source` names the file (or the flags) in the message. */
export function parsePlan(input: unknown, source: string, opts: { file?: boolean } = {}): LoadgenPlan {
  const r = (opts.file === false ? loadgenPlanSchema : loadgenPlanFileSchema).safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const f = formatIssue(i, input);
    return `${f.path || '(top level)'}: ${f.message}`;
  });
  throw new ConfigError('loadgen.plan_invalid', `${source}: ${lines[0]}`, { file: source, details: lines.slice(1) });
}

/** Read and validate a plan file. */
export function readPlan(file: string): LoadgenPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('loadgen.plan_unreadable', `${file}: cannot read the load-generator plan (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('loadgen.plan_invalid', `${file}: not JSON (${(e as Error).message})`, { file });
  }
  return parsePlan(data, file);
}

/** The settings of instance `id` (the shared ones with its entry). */
export function instanceSettings(plan: LoadgenPlan, id: string, source = 'the plan'): GeneratorSettings {
  const g = plan.generators.find((x) => x.id === id);
  if (!g)
    throw new ConfigError('loadgen.no_instance', `${source}: no generator "${id}" (the plan has ${plan.generators.map((x) => x.id).join(', ')})`, { path: 'generators' });
  const { control: sharedControl, ...shared } = plan.shared;
  return {
    ...shared,
    instance: g.id,
    rate: g.rate,
    ...(g.steps ? { steps: g.steps } : {}),
    ...(g.host ? { host: g.host } : {}),
    ...(g.control ? { control: { ...g.control, ...(sharedControl.token ? { token: sharedControl.token } : {}) } } : {}),
    ...(g.summary ? { summary: g.summary } : {}),
    ...(g.rawLog ? { rawLog: g.rawLog } : {}),
  };
}
