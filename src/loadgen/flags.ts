/**
 * The flag form of `entrypoint loadgen` (direct use, bench/loadgen): each flag names the plan key it
 * sets. Flags carry no bounds and no defaults of their own: the values go into a one-generator plan
 * validated by src/loadgen/plan.ts, and a bad value is reported under its flag name.
 */
import type { z } from 'zod';
import { formatIssue, issuePath } from '../config/format-issues.js';
import { UsageError } from '../core/errors.js';
import { DRIVER_NAMES, LOADGEN_PLAN_SCHEMA, loadgenPlanSchema, sharedSettingsSchema, START_TOKEN_ENV, type LoadgenPlan, type LoadgenPlanInput } from './plan.js';

export interface LoadgenFlag {
  /** Commander spelling, e.g. `--rate <msg/s>`. */
  flag: string;
  /** Camel-case key commander gives the value under. */
  key: string;
  /** Plan path it sets (dotted; `generators[0]` is the one instance). */
  path: string;
  help: string;
  kind: 'number' | 'string' | 'duration' | 'list' | 'boolean';
  required?: boolean;
}

export const LOADGEN_FLAGS: readonly LoadgenFlag[] = [
  { flag: '--bootstrap <host:port,...>', key: 'bootstrap', path: 'shared.bootstrap', help: 'bootstrap servers', kind: 'list', required: true },
  { flag: '--topic <name>', key: 'topic', path: 'shared.topic', help: 'topic to produce to (must exist)', kind: 'string', required: true },
  { flag: '--rate <msg/s>', key: 'rate', path: 'generators[0].rate', help: 'target rate of this instance; 0 = as fast as possible', kind: 'number' },
  { flag: '--size <bytes>', key: 'size', path: 'shared.messageSize', help: 'message payload size', kind: 'number' },
  { flag: '--duration <s>', key: 'duration', path: 'shared.durationS', help: 'measured duration (after the warm-up), e.g. 30, 30s, 5m', kind: 'duration' },
  { flag: '--warmup <s>', key: 'warmup', path: 'shared.warmupS', help: 'warm-up before the measurement, excluded from it', kind: 'duration' },
  { flag: '--start-at <epoch-ms>', key: 'startAt', path: 'shared.startAt', help: 'shared start time (epoch milliseconds); default now + 1 s', kind: 'number' },
  { flag: '--acks <0|1|all>', key: 'acks', path: 'shared.acks', help: 'acknowledgements', kind: 'string' },
  { flag: '--keys <mode>', key: 'keys', path: 'shared.keys', help: 'message keys: none (sticky partition per batch), random, sequential', kind: 'string' },
  { flag: '--linger-ms <ms>', key: 'lingerMs', path: 'shared.lingerMs', help: 'wait up to this long to fill a batch', kind: 'number' },
  { flag: '--batch-bytes <bytes>', key: 'batchBytes', path: 'shared.batchBytes', help: 'maximum payload bytes per produce request', kind: 'number' },
  { flag: '--max-inflight <n>', key: 'maxInflight', path: 'shared.driver.maxInflight', help: 'native driver: produce requests in flight at once', kind: 'number' },
  { flag: '--request-timeout <ms>', key: 'requestTimeout', path: 'shared.timeouts.requestMs', help: 'timeout of one produce request', kind: 'number' },
  { flag: '--stall-timeout <ms>', key: 'stallTimeout', path: 'shared.timeouts.stallMs', help: 'fail when no acknowledgement arrived for this long', kind: 'number' },
  { flag: '--connect-timeout <ms>', key: 'connectTimeout', path: 'shared.timeouts.connectMs', help: 'bound on reaching the brokers before the start', kind: 'number' },
  {
    flag: '--await-start <ms>',
    key: 'awaitStart',
    path: 'shared.timeouts.startMs',
    help: `no fixed start: once connected, wait this long for POST /start?at=<epoch ms> on the control port (token from $${START_TOKEN_ENV})`,
    kind: 'number',
  },
  { flag: '--max-late <ms>', key: 'maxLate', path: 'shared.timeouts.maxLateMs', help: 'fail when ready later than this after the shared start', kind: 'number' },
  { flag: '--instance <id>', key: 'instance', path: 'generators[0].id', help: 'instance name in the summary and metric labels (default loadgen-<pid>)', kind: 'string' },
  { flag: '--metrics-port <n>', key: 'metricsPort', path: 'generators[0].control.port', help: 'serve /metrics (and the start trigger) on this port (0 = any free port)', kind: 'number' },
  { flag: '--metrics-host <addr>', key: 'metricsHost', path: 'generators[0].control.address', help: 'address the control/metrics server listens on (default 0.0.0.0)', kind: 'string' },
  { flag: '--driver <native|perf-test>', key: 'driver', path: 'shared.driver.name', help: "native generator, or Kafka's ProducerPerformance", kind: 'string' },
  { flag: '--kafka-libs <dir>', key: 'kafkaLibs', path: 'shared.driver.kafkaLibs', help: 'perf-test driver: directory of the Kafka jars (kafka-tools and its dependencies)', kind: 'string' },
  { flag: '--java <path>', key: 'java', path: 'shared.driver.java', help: 'perf-test driver: java binary', kind: 'string' },
  { flag: '--perf-log <file>', key: 'perfLog', path: 'generators[0].rawLog', help: "perf-test driver: keep the tool's raw output here", kind: 'string' },
];

/** The flag form's rate when `--rate` is not given (a plan always gives each instance its rate). */
export const FLAG_FORM_RATE = 1000;

const DRIVER_ONLY: Record<string, string> = { maxInflight: 'native', kafkaLibs: 'perf-test', java: 'perf-test', perfLog: 'perf-test' };

/** Default shown in `--help`, read from the schema (never restated). */
export function flagDefault(f: LoadgenFlag): string | undefined {
  if (f.required || f.key === 'awaitStart') return undefined;
  if (f.key === 'rate') return String(FLAG_FORM_RATE);
  const d = sharedSettingsSchema.parse({ bootstrap: ['h:1'], topic: 't' });
  const m = /^shared\.(.+)$/.exec(f.path);
  if (!m) return undefined;
  let cur: unknown = d;
  for (const k of m[1]!.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur === undefined || typeof cur === 'object' ? undefined : String(cur);
}

function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let cur: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    const nextIsIndex = /^\d+$/.test(keys[i + 1]!);
    const holder = cur as Record<string, unknown>;
    holder[k] ??= nextIsIndex ? [] : {};
    cur = holder[k] as Record<string, unknown>;
  }
  (cur as Record<string, unknown>)[keys.at(-1)!] = value;
}

/** A flag's text as the schema expects it: numbers as numbers when they look like one. */
function flagValue(f: LoadgenFlag, v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (f.kind === 'number') return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim()) ? Number(v) : v;
  return v;
}

/**
 * The one-generator plan of the flag form, validated by the plan schema. Without `--start-at` or
 * `--await-start` the start is now + 1 s. Errors name the flag.
 */
export function planFromFlags(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, now = Date.now()): LoadgenPlan {
  const driver = (values.driver as string | undefined) ?? 'native';
  for (const [key, only] of Object.entries(DRIVER_ONLY)) {
    const f = LOADGEN_FLAGS.find((x) => x.key === key)!;
    if (values[key] !== undefined && driver !== only) throw new UsageError('loadgen.usage', `${f.flag.split(' ')[0]} applies to --driver ${only} only`);
  }
  if (values.startAt !== undefined && values.awaitStart !== undefined) throw new UsageError('loadgen.usage', '--start-at and --await-start exclude each other');
  if (values.awaitStart !== undefined && values.metricsPort === undefined) throw new UsageError('loadgen.usage', '--await-start needs --metrics-port (the start trigger is served there)');
  const input: Record<string, unknown> = { schema: LOADGEN_PLAN_SCHEMA, shared: { driver: { name: driver } }, generators: [{ id: `loadgen-${process.pid}` }] };
  for (const f of LOADGEN_FLAGS) {
    const v = values[f.key];
    if (v === undefined || f.key === 'driver') continue;
    setPath(input, f.path, flagValue(f, v));
  }
  const gen = (input.generators as Array<Record<string, unknown>>)[0]!;
  gen.rate ??= FLAG_FORM_RATE;
  const control = gen.control as Record<string, unknown> | undefined;
  if (control) control.address ??= '0.0.0.0';
  const shared = input.shared as Record<string, unknown>;
  if (values.awaitStart === undefined && shared.startAt === undefined) shared.startAt = Math.ceil(now + 1000);
  const token = env[START_TOKEN_ENV];
  if (token) shared.control = { token };
  const r = loadgenPlanSchema.safeParse(input);
  if (r.success) return r.data;
  throw new UsageError('loadgen.usage', describeFlagIssue(r.error.issues[0]!, input as LoadgenPlanInput));
}

function describeFlagIssue(issue: z.core.$ZodIssue, input: LoadgenPlanInput): string {
  const f = formatIssue(issue, input);
  const path = issuePath(issue.path);
  if (path === 'shared.driver.name' || path === 'shared.driver') return `--driver: must be one of ${DRIVER_NAMES.join(', ')}`;
  const flag = LOADGEN_FLAGS.find((x) => x.path === path);
  if (flag) return `${flag.flag.split(' ')[0]}: ${f.message.replace(/^is required \(expected [^)]*\)$/, 'is required')}`;
  return `${f.path}: ${f.message}`;
}
