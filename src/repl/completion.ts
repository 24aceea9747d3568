import { ROLES, SERVICES } from '../core/types.js';
import { keyPaths } from './overrides.js';

/** What completion can offer, gathered from the session when Tab is pressed. */
export interface CompletionSources {
  helpers: string[];
  /** Configuration object (for `cfg.` paths and loadConfig keys). */
  config: unknown;
  experiments: string[];
  hosts: string[];
  playbooks: string[];
}

/** Which candidates fit the N-th string argument of a helper. */
function argCandidates(fn: string, argIndex: number, src: CompletionSources): string[] | undefined {
  const roles = [...ROLES, 'all', ...src.hosts];
  switch (fn) {
    case 'p':
      return argIndex === 0 ? [...SERVICES, ...src.playbooks] : undefined;
    case 'hosts':
    case 'sh':
    case 'fetch':
      return argIndex === 0 ? roles : undefined;
    case 'loadConfig':
      return argIndex === 0 ? src.experiments : keyPaths(src.config).filter((k) => k !== 'name');
    case 'help':
      return argIndex === 0 ? src.helpers : undefined;
    default:
      return undefined;
  }
}

/**
 * Complete the end of `line`. Returns [candidates, the fragment they replace] as readline wants, or
 * undefined to let the default JavaScript completion answer.
 */
export function complete(line: string, src: CompletionSources): [string[], string] | undefined {
  // Inside a string argument: helper('ro|  or  helper(x, 'ke|   or   loadConfig({ 'ingest.lo|
  const str = /([A-Za-z_$][\w$]*)\(((?:[^()'"]|'[^']*'|"[^"]*")*?)(['"])([^'"]*)$/.exec(line);
  if (str) {
    const fn = str[1]!;
    const before = str[2]!;
    const argIndex = (before.match(/,/g) ?? []).length;
    const cands = argCandidates(fn, before.includes('{') ? 1 : argIndex, src);
    if (!cands) return [[], str[4]!];
    const frag = str[4]!;
    return [[...new Set(cands.filter((c) => c.startsWith(frag)))].sort(), frag];
  }
  // cfg.section.ke|
  const cfgm = /\bcfg((?:\.[A-Za-z_$][\w$]*)*)\.([\w$]*)$/.exec(line);
  if (cfgm) {
    const base = cfgm[1]!.slice(1);
    const frag = cfgm[2]!;
    const paths = keyPaths(src.config);
    const children = paths
      .filter((p) => (base === '' ? !p.includes('.') : p.startsWith(base + '.') && !p.slice(base.length + 1).includes('.')))
      .map((p) => (base === '' ? p : p.slice(base.length + 1)));
    const hits = children.filter((c) => c.startsWith(frag)).sort();
    return [hits, frag];
  }
  // A bare identifier at the start of an expression: helpers first.
  const id = /(?:^|[\s(;,=!&|+\-*/{[])([A-Za-z_$][\w$]*)$/.exec(line);
  if (id) {
    const frag = id[1]!;
    const hits = src.helpers.filter((h) => h.startsWith(frag));
    if (hits.length) return [hits.sort(), frag];
  }
  return undefined;
}
