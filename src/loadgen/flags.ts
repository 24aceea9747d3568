/** The flag form's plan: the flags of flag-table.ts into the plan schema, errors named by flag. */
import type { z } from 'zod';
import { formatIssue, issuePath } from '../config/format-issues.js';
import { UsageError } from '../core/errors.js';
import { DRIVER_ONLY, FLAG_FORM_RATE, LOADGEN_FLAGS, type LoadgenFlag } from './flag-table.js';
import { DRIVER_NAMES, LOADGEN_PLAN_SCHEMA, loadgenPlanSchema, START_TOKEN_ENV, type LoadgenPlan, type LoadgenPlanInput } from './plan.js';

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
