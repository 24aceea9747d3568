import { UsageError } from '../core/errors.js';
import { FLAGS, type Override } from '../app/flags.js';

export type { Override };

/** The ingest flags of `entrypoint i` / `entrypoint ingest` (their declaration), also accepted as short keys by loadConfig. */
export const SHORTHANDS: Record<string, string> = Object.fromEntries(FLAGS.ingest.map((f) => [f.name, f.path]));

const isPlain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Overrides given to loadConfig: `{ load: 5000 }` (the CLI's short names), `{ 'ingest.load': 5000 }`
 * (key paths) or `{ ingest: { load: 5000 } }` (nested). Validation is the loader's job (strict schema).
 */
export function overridesFromObject(obj: unknown): Override[] {
  if (obj === undefined || obj === null) return [];
  if (!isPlain(obj)) {
    throw new UsageError('repl.bad_argument', `loadConfig(name?, overrides?): overrides must be an object like { load: 5000 } or { 'kafka.partitions': 6 } (got ${describe(obj)})`);
  }
  const out: Override[] = [];
  const walk = (prefix: string, o: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(o)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(k)) {
        throw new UsageError('repl.bad_argument', `loadConfig: "${prefix}${k}" is not a configuration key path (use letters, digits, "_" and ".")`);
      }
      const path = prefix === '' && SHORTHANDS[k] ? SHORTHANDS[k] : prefix + k;
      if (isPlain(v)) walk(path + '.', v);
      else out.push({ path, value: v, flag: 'loadConfig' });
    }
  };
  walk('', obj);
  return out;
}

export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Flatten a configuration into `path → value` for diffs and completion. */
export function flatten(v: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (isPlain(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out.set(prefix, v);
  return out;
}

export interface Change {
  path: string;
  from: unknown;
  to: unknown;
}

export function diffConfigs(a: unknown, b: unknown): Change[] {
  const fa = flatten(a);
  const fb = flatten(b);
  const out: Change[] = [];
  for (const k of new Set([...fa.keys(), ...fb.keys()])) {
    const x = fa.get(k);
    const y = fb.get(k);
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ path: k, from: x, to: y });
  }
  return out.sort((p, q) => p.path.localeCompare(q.path));
}

/** Every key path of a configuration, intermediate sections included (`ingest`, `ingest.load`, ...). */
export function keyPaths(v: unknown, prefix = '', out: string[] = []): string[] {
  if (isPlain(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.push(p);
      keyPaths(x, p, out);
    }
  }
  return out;
}
