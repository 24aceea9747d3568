import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import nunjucks from 'nunjucks';
import yaml from 'js-yaml';
import { ConfigError, UsageError } from '../../core/errors.js';
import { racefileSchema, type Racefile } from './schema.js';

export interface RaceContext {
  /** `--param k=v` values (YAML-typed: numbers, booleans). */
  params: Record<string, unknown>;
  /** Hosts by role, for templates: `hosts.worker[0].address`. */
  hosts: Record<string, Array<{ name: string; address: string }>>;
  run: { id: string };
  /** On Kubernetes (runtime k3s): the namespace the configs go to and the cluster's images (`k8s.images.tools`). */
  k8s?: { namespace: string; images: Record<string, string> } | null;
}

export interface LoadedRacefile {
  race: Racefile;
  file: string;
  name: string;
  /** The racefile after Nunjucks rendering (saved in the run folder). */
  rendered: string;
}

/** Parse `k=v` (value read as YAML). */
export function parseParam(expr: string): [string, unknown] {
  const i = expr.indexOf('=');
  const k = i < 0 ? '' : expr.slice(0, i).trim();
  if (i < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UsageError('usage.bad_param', `--param ${expr}: expected name=value (e.g. --param connections=20)`);
  const raw = expr.slice(i + 1);
  let v: unknown = raw;
  try {
    v = raw === '' ? '' : yaml.load(raw);
  } catch {
    v = raw;
  }
  return [k, v];
}

function pathOf(p: PropertyKey[]): string {
  return p.map((x, i) => (typeof x === 'number' ? `[${x}]` : (i ? '.' : '') + String(x))).join('');
}

function valueAt(doc: unknown, p: PropertyKey[]): unknown {
  let cur: unknown = doc;
  for (const k of p) cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

/**
 * Load a racefile: a YAML file, or a Nunjucks template of one (`.njk`, or any file using `{{ }}` /
 * `{% %}`), rendered with `params`, `hosts` and `run`; then strictly validated. Every error names
 * the file and the key (or the template line).
 */
export function loadRacefile(path: string, ctx: RaceContext): LoadedRacefile {
  const file = resolve(path);
  if (!existsSync(file)) throw new ConfigError('race.not_found', `racefile ${path} does not exist`, { file });
  const src = readFileSync(file, 'utf8');
  let rendered = src;
  if (file.endsWith('.njk') || /\{\{|\{%/.test(src)) {
    const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(dirname(file)), { autoescape: false, throwOnUndefined: true });
    try {
      rendered = env.renderString(src, { ...ctx, params: ctx.params });
    } catch (e) {
      const msg = (e as Error).message.replace(/^\(unknown path\)\s*/, '').replace(/\s+/g, ' ').trim();
      throw new ConfigError('race.template', `${path}: template error: ${msg}`, {
        file,
        hint: 'parameters come from --param name=value; give defaults in the template with {{ params.name | default(...) }}',
      });
    }
  }
  let doc: unknown;
  try {
    doc = yaml.load(rendered, { filename: file });
  } catch (e) {
    const ex = e as yaml.YAMLException;
    const where = ex.mark ? `${path}:${ex.mark.line + 1}:${ex.mark.column + 1}` : path;
    throw new ConfigError('race.yaml_syntax', `${where}: YAML syntax error: ${ex.reason ?? ex.message}${rendered !== src ? ' (line in the rendered racefile)' : ''}`, { file });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError('race.not_mapping', `${path}: a racefile is a mapping with configs, warmup, benchmark and collectors`, { file });
  }
  const parsed = racefileSchema.safeParse(doc);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((iss) => {
      let msg = iss.message;
      if (iss.code === 'unrecognized_keys') msg = `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')}`;
      if (iss.code === 'invalid_union' || iss.code === 'invalid_type') {
        const got = valueAt(doc, iss.path);
        if (got === undefined) msg = 'is required';
        else if (iss.code === 'invalid_union') msg = `not valid here (${JSON.stringify(got).slice(0, 80)}); see docs/network.md for the lap and config types`;
      }
      const key = pathOf(iss.path) || '(top level)';
      return `${path}: ${key}: ${msg}`;
    });
    throw new ConfigError('race.invalid', lines[0]!, { file, path: pathOf(parsed.error.issues[0]!.path), details: lines.slice(1) });
  }
  const name = parsed.data.name ?? basename(file).replace(/(\.ya?ml)?(\.njk)?$/, '');
  return { race: parsed.data, file, name, rendered };
}
