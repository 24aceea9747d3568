import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, relative } from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { ConfigError, UsageError } from '../core/errors.js';
import { assetPath, workDir } from '../core/paths.js';
import { formatIssue } from './format-issues.js';
import { allowedKeysAt } from './schema-walk.js';
import { EXPERIMENT_NAME_RE } from './schema/base.js';

/**
 * The generic machinery of experiment files: find a file, follow `extends`, apply `--set` and flag
 * overrides, validate strictly against the schema it is GIVEN (src/experiment assembles it), run
 * the given cross-checks, and say what is wrong with file and key (or flag) in one message.
 */

export interface LoadedFile<T> {
  value: T;
  /** The experiment file, then each file it extends. */
  files: string[];
  /** Where a key's value came from: `file: key.path`, or `--flag (key.path)` for command-line overrides. */
  where: (path: string) => string;
}

export interface LoadOptions {
  /** `key.path=value` overrides, applied after `extends`, before validation (`--set`). */
  set?: string[];
  /** Typed overrides from dedicated flags (e.g. `--workers` → roles.worker), applied last. */
  overrides?: Array<{ path: string; value: unknown; flag: string }>;
}

/** Checks that span several keys; `where(path)` names the file or flag a key came from. */
export type CrossCheck<T> = (value: T, where: (path: string) => string) => void;

function displayPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith('..') ? p : r;
}

/** Folders searched for `experiments/<name>.yaml`: the user's working directory, then the tool's own. */
export function experimentDirs(): string[] {
  const dirs = [join(workDir(), 'experiments'), assetPath('experiments')];
  return [...new Set(dirs.map((d) => resolve(d)))];
}

export function listExperiments(): string[] {
  const names = new Set<string>();
  for (const d of experimentDirs()) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (/\.ya?ml$/.test(f)) names.add(f.replace(/\.ya?ml$/, ''));
  }
  return [...names].sort();
}

/** Find an experiment by name (`quickstart`) or by path (`./my.yaml`). */
export function resolveExperimentFile(ref: string, relativeTo?: string): string {
  const looksLikePath = ref.includes('/') || /\.ya?ml$/.test(ref);
  if (looksLikePath) {
    const p = isAbsolute(ref) ? ref : resolve(relativeTo ?? process.cwd(), ref);
    if (existsSync(p)) return p;
    throw new ConfigError('config.not_found', `experiment file ${displayPath(p)} does not exist`, { file: p });
  }
  const dirs = relativeTo ? [relativeTo, ...experimentDirs()] : experimentDirs();
  for (const d of dirs) {
    for (const ext of ['.yaml', '.yml']) {
      const p = join(d, ref + ext);
      if (existsSync(p)) return p;
    }
  }
  const known = listExperiments();
  throw new ConfigError(
    'config.unknown_experiment',
    `unknown experiment "${ref}": no ${ref}.yaml in ${experimentDirs().map(displayPath).join(' or ')}` +
      (known.length ? `\navailable: ${known.join(', ')}` : ''),
  );
}

function parseYamlFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('config.unreadable', `cannot read ${displayPath(file)}: ${(e as Error).message}`, { file, cause: e });
  }
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file, schema: yaml.DEFAULT_SCHEMA });
  } catch (e) {
    const ex = e as yaml.YAMLException;
    const where = ex.mark ? `${displayPath(file)}:${ex.mark.line + 1}:${ex.mark.column + 1}` : displayPath(file);
    throw new ConfigError('config.yaml_syntax', `${where}: YAML syntax error: ${ex.reason ?? ex.message}`, { file, cause: e });
  }
  if (doc === undefined || doc === null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError('config.not_mapping', `${displayPath(file)}: the top level must be a mapping of keys`, { file });
  }
  return doc as Record<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge: mappings merge key by key, everything else (lists included) is replaced. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function loadChain(file: string, seen: string[]): { doc: Record<string, unknown>; files: string[] } {
  if (seen.includes(file)) {
    throw new ConfigError('config.extends_cycle', `extends cycle: ${[...seen, file].map(displayPath).join(' → ')}`, { file, path: 'extends' });
  }
  const doc = parseYamlFile(file);
  if ('name' in doc) {
    throw new ConfigError('config.name_key', `${displayPath(file)}: key "name" is not allowed; the experiment is named after its file`, {
      file,
      path: 'name',
    });
  }
  const ext = doc.extends;
  delete doc.extends;
  if (ext === undefined) return { doc, files: [file] };
  if (typeof ext !== 'string' || ext === '') {
    throw new ConfigError('config.invalid', `${displayPath(file)}: extends: expected the name of another experiment`, { file, path: 'extends' });
  }
  let parentFile: string;
  try {
    parentFile = resolveExperimentFile(ext, dirname(file));
  } catch (e) {
    throw new ConfigError('config.extends_missing', `${displayPath(file)}: extends: ${(e as Error).message}`, { file, path: 'extends', cause: e });
  }
  const parent = loadChain(parentFile, [...seen, file]);
  return { doc: deepMerge(parent.doc, doc), files: [file, ...parent.files] };
}

/** Set `a.b.c` in a nested object, creating mappings on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const [i, p] of parts.entries()) {
    if (i === parts.length - 1) {
      cur[p] = value;
      return;
    }
    const next = cur[p];
    if (!isPlainObject(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
}

/** Parse one `--set key.path=value`; the value is read as YAML (numbers, booleans, lists). */
export function parseSet(expr: string): { path: string; value: unknown } {
  const eq = expr.indexOf('=');
  const path = eq < 0 ? '' : expr.slice(0, eq).trim();
  if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(path)) {
    throw new UsageError('usage.bad_set', `--set ${expr}: expected key.path=value (e.g. --set monitoring.scrape_interval=5s)`);
  }
  const raw = expr.slice(eq + 1);
  let value: unknown;
  try {
    value = raw === '' ? '' : yaml.load(raw);
  } catch {
    value = raw;
  }
  return { path, value };
}

/** Load, merge, override and validate an experiment file against `schema`. Throws ConfigError naming file and key. */
export function loadConfigFile<S extends z.ZodType>(ref: string, schema: S, opts: LoadOptions & { crossCheck?: CrossCheck<z.output<S>> } = {}): LoadedFile<z.output<S>> {
  const file = resolveExperimentFile(ref);
  const name = basename(file).replace(/\.ya?ml$/, '');
  if (!EXPERIMENT_NAME_RE.test(name)) {
    throw new ConfigError(
      'config.bad_name',
      `${displayPath(file)}: experiment names use lowercase letters, digits, "-" and "_" (at most 40); rename the file`,
      { file },
    );
  }
  const { doc, files } = loadChain(file, []);
  const origins = new Map<string, string>();
  for (const s of opts.set ?? []) {
    const { path, value } = parseSet(s);
    setPath(doc, path, value);
    origins.set(path, `--set ${path}`);
  }
  for (const o of opts.overrides ?? []) {
    setPath(doc, o.path, o.value);
    origins.set(o.path, `${o.flag} (${o.path})`);
  }
  const input = { ...doc, name };
  const parsed = schema.safeParse(input);
  const fileLabel = displayPath(file) + (files.length > 1 ? ` (with ${files.slice(1).map(displayPath).join(', ')})` : '');
  const flagOf = (path: string): string | undefined => {
    for (const [p, flag] of origins) if (path === p || path.startsWith(p + '.') || path.startsWith(p + '[')) return flag;
    return undefined;
  };
  /** `file: key.path` for keys from files, `--flag (key.path)` for keys from the command line. */
  const whereOf = (path: string): string => flagOf(path) ?? `${fileLabel}: ${path}`;
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const { path, message } = formatIssue(issue, input);
      let extra = '';
      if (issue.code === 'unrecognized_keys') {
        const allowed = allowedKeysAt(schema, issue.path);
        if (allowed.length) extra = `; allowed: ${allowed.filter((k) => k !== 'name').join(', ')}`;
      }
      return { line: `${whereOf(path)}: ${message}${extra}`, path };
    });
    const first = lines[0]!;
    throw new ConfigError('config.invalid', first.line, { file, path: first.path, details: lines.slice(1).map((l) => l.line) });
  }
  const value = parsed.data as z.output<S>;
  opts.crossCheck?.(value, (path) => whereOf(path));
  return { value, files, where: whereOf };
}

export { z };
