import type { z } from 'zod';

/** Dotted path of a zod issue, e.g. `roles.worker` or `monitoring.remote_write[0].url`. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** One line per issue: `<path>: <what is wrong>; <what is allowed>`. */
export function formatIssue(issue: z.core.$ZodIssue, input: unknown): { path: string; message: string } {
  const i = issue as z.core.$ZodIssue & Record<string, unknown>;
  let path = issuePath(issue.path);
  let message: string;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const keys = (i.keys as string[]) ?? [];
      const parent = valueAt(input, issue.path);
      const known = Object.keys(parent && typeof parent === 'object' ? parent : {}).filter((k) => !keys.includes(k));
      path = path === '' ? keys[0]! : `${path}.${keys[0]!}`;
      message = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
      void known;
      break;
    }
    case 'invalid_type': {
      const got = valueAt(input, issue.path);
      message =
        got === undefined ? `is required (expected ${String(i.expected)})` : `expected ${String(i.expected)}, got ${describeType(got)}`;
      break;
    }
    case 'invalid_value': {
      const values = (i.values as unknown[]) ?? [];
      message = `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(valueAt(input, issue.path))})`;
      break;
    }
    case 'too_small':
      message = `must be ${i.inclusive === false ? 'greater than' : 'at least'} ${String(i.minimum)} (got ${JSON.stringify(valueAt(input, issue.path))})`;
      break;
    case 'too_big':
      message = `must be ${i.inclusive === false ? 'less than' : 'at most'} ${String(i.maximum)} (got ${JSON.stringify(valueAt(input, issue.path))})`;
      break;
    case 'invalid_format':
    case 'custom':
    default:
      message = issue.message;
      if (issue.code === 'invalid_format') message = `${issue.message} (got ${JSON.stringify(valueAt(input, issue.path))})`;
  }
  return { path, message };
}
