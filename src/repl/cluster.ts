import { existsSync, readdirSync } from 'node:fs';
import { GreenraceError, isGreenraceError } from '../core/errors.js';
import { assetPath, stateDir } from '../core/paths.js';
import type { Host } from '../core/types.js';
import { readState, type ExperimentState } from '../app/state.js';
import { selectHosts as appSelectHosts } from '../app/remote.js';
import { argError } from './session.js';

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
  try {
    return appSelectHosts(sel, () => requireState(exp).platform.hosts);
  } catch (e) {
    if (isGreenraceError(e) && e.code === 'remote.bad_hosts') throw argError(signature, e.message);
    throw e;
  }
}
