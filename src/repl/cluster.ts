import { existsSync, readdirSync } from 'node:fs';
import { GreenraceError } from '../core/errors.js';
import { assetPath, stateDir } from '../core/paths.js';
import { ROLES, type Host, type Role } from '../core/types.js';
import { readState, type ExperimentState } from '../app/state.js';
import { argError } from './session.js';
import { describe } from './overrides.js';

export interface ClusterSummary {
  up: boolean;
  hosts: number;
  /** Shown in the prompt when not up: `down`, `setup failed`, ... */
  detail?: string;
}

function stateOf(exp: string): ExperimentState | undefined {
  try {
    return readState(stateDir(exp));
  } catch {
    return undefined;
  }
}

/** Whether the experiment's cluster is up, from its state file (cheap: read at every prompt). */
export function clusterSummary(exp: string): ClusterSummary {
  const s = stateOf(exp);
  const n = s?.platform?.hosts.length ?? 0;
  if (!s || n === 0) return { up: false, hosts: 0, detail: s ? s.phase : 'down' };
  if (s.phase === 'ready') return { up: true, hosts: n };
  return { up: false, hosts: n, detail: s.phase === 'failed' || s.phase === 'interrupted' ? `setup ${s.phase}` : s.phase };
}

export function hostNames(exp: string): string[] {
  return stateOf(exp)?.platform?.hosts.map((h) => h.name) ?? [];
}

/** Playbooks under ansible/playbooks (for p() and completion). */
export function playbookNames(): string[] {
  const dir = assetPath('ansible', 'playbooks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
}

/** The experiment's state, or an error saying how to get a cluster. */
export function requireState(exp: string): ExperimentState & { platform: NonNullable<ExperimentState['platform']> } {
  const s = readState(stateDir(exp));
  if (!s || !s.platform || s.platform.hosts.length === 0) {
    throw new GreenraceError('repl.no_cluster', `experiment ${exp} has no cluster${s ? ` (state: ${s.phase})` : ''}`, {
      hint: `run \`entrypoint setup ${exp}\``,
    });
  }
  return s as ExperimentState & { platform: NonNullable<ExperimentState['platform']> };
}

/**
 * The hosts a helper acts on: a role (`worker`), `all`, a host name, or a list of those.
 * An empty selection is an error naming what exists.
 */
export function selectHosts(exp: string, sel: unknown, signature: string): Host[] {
  const items = Array.isArray(sel) ? sel : [sel];
  if (items.length === 0 || items.some((x) => typeof x !== 'string' || x === '')) {
    throw argError(signature, `expected a role (${ROLES.join(', ')}), "all" or a host name (got ${describe(sel)})`);
  }
  const hosts = requireState(exp).platform.hosts;
  const out: Host[] = [];
  for (const it of items as string[]) {
    let found: Host[];
    if (it === 'all') found = hosts;
    else if ((ROLES as readonly string[]).includes(it)) found = hosts.filter((h) => h.roles.includes(it as Role));
    else found = hosts.filter((h) => h.name === it);
    if (found.length === 0) {
      const roles = [...new Set(hosts.flatMap((h) => h.roles))];
      throw argError(
        signature,
        (ROLES as readonly string[]).includes(it)
          ? `no host has the role ${it} (roles here: ${roles.join(', ')})`
          : `"${it}" is neither a role (${ROLES.join(', ')}, all) nor a host (${hosts.map((h) => h.name).join(', ')})`,
      );
    }
    for (const h of found) if (!out.includes(h)) out.push(h);
  }
  return out;
}
