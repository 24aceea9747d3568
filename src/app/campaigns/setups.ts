/**
 * A sweep's setups: the factors that change what `setup` deployed (broker count, broker settings,
 * broker kind, runtime). Between setup groups the sweep runs the app's own setup use case with the
 * group's values as overrides (killjob first when the hosts themselves change: roles, platform),
 * checks what came up (Kafka's own metadata lists the brokers), and records it. On the way out —
 * completed, failed or Ctrl-C — what the sweep created is taken down: an experiment the sweep set up
 * itself is killed; a setup the user had is set up again as it was (or the message says in which
 * state it is left).
 */
import { ConfigError, UsageError, errorMessage } from '../../core/errors.js';
import { stateDir as stateDirOf } from '../../core/paths.js';
import { loadExperiment } from '../../experiment/load.js';
import { kafkaBrokers } from '../../services/kafka-admin.js';
import type { Factor, FactorValue } from '../../campaigns/grid.js';
import { BROKER_KINDS, changedPaths, needsRecreate, servicesForBroker, setupLabel, valueAt, type SetupGroup } from '../../campaigns/setups.js';
import type { SweepSetupEntry } from '../../campaigns/records.js';
import { killjob } from '../killjob.js';
import { setup } from '../setup.js';
import { readState } from '../state.js';
import { overrideSets } from './workload.js';

/** What the sweep works against: the experiment, its shared `--set`s, and the setup it found. */
export interface SweepSetups {
  exp: string;
  name: string;
  section: string;
  set: string[];
  /** The setup paths of the sweep's factors. */
  paths: string[];
  /** The experiment as set up before the sweep (undefined: not set up, the sweep sets it up and kills it). */
  original?: Record<string, unknown>;
  progress: (l: string) => void;
}

/**
 * The config overrides a group's setup means: its factors' values, the broker kind as a services
 * list, and the roles of the setup found (so a re-made cluster keeps the user's worker count).
 */
export function setupOverrides(s: SweepSetups, g: Pick<SetupGroup, 'assignments'>, base: { services: readonly string[]; roles: Record<string, number> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [r, n] of Object.entries(base.roles)) out[`roles.${r}`] = n;
  for (const [p, v] of Object.entries(g.assignments)) {
    if (p === `${s.section}.broker`) out.services = servicesForBroker(base.services, String(v));
    else out[p] = v;
  }
  return out;
}

function baseOf(s: SweepSetups): { services: readonly string[]; roles: Record<string, number> } {
  if (s.original) return { services: s.original.services as string[], roles: s.original.roles as Record<string, number> };
  const { experiment } = loadExperiment(s.exp, { set: s.set });
  return { services: experiment.services, roles: { ...experiment.roles } };
}

/**
 * Before anything runs: every group's setup is a valid experiment (file, key and factor named), and
 * a broker kind that cannot be installed is refused with the reason. `reachable` says whether a URL
 * answers (Redpanda is installed from its apt repository).
 */
export async function checkSetups(s: SweepSetups, groups: Array<Pick<SetupGroup, 'assignments'>>, factors: Factor[], reachable: (url: string) => Promise<string | null>): Promise<void> {
  const from = new Map(factors.map((f) => [f.path, f.from]));
  const brokerPath = `${s.section}.broker`;
  const base = baseOf(s);
  let redpandaChecked = false;
  for (const g of groups) {
    const ov = setupOverrides(s, g, base);
    const label = (p: string): string => from.get(p) ?? (p === 'services' ? (from.get(brokerPath) ?? 'services') : `the sweep's setup ${setupLabel(g.assignments)} (${p})`);
    const kind = g.assignments[brokerPath];
    if (kind !== undefined && !(BROKER_KINDS as readonly FactorValue[]).includes(kind)) {
      throw new UsageError('sweep.bad_broker', `${from.get(brokerPath)}: ${brokerPath}=${String(kind)} is not a broker kind (${BROKER_KINDS.join(', ')})`);
    }
    const { experiment } = loadExperiment(s.exp, { set: s.set, overrides: Object.entries(ov).map(([path, value]) => ({ path, value, flag: label(path) })) });
    if (experiment.services.includes('redpanda') && !redpandaChecked) {
      redpandaChecked = true;
      const url = experiment.redpanda.apt_repo;
      const why = await reachable(url);
      if (why !== null) {
        const where = kind === 'redpanda' ? from.get(brokerPath) : Object.keys(g.assignments).map((p) => from.get(p)).find(Boolean) ?? 'sweep';
        throw new ConfigError(
          'sweep.redpanda_unavailable',
          `${where}: the setup ${setupLabel(g.assignments)} deploys Redpanda, which is installed from its apt repository (redpanda.apt_repo ${url}); that repository cannot be reached from this machine (${why}), so Redpanda cannot be installed here and the sweep would fail half-way: drop redpanda from the factor`,
        );
      }
    }
  }
}

/** Does a URL answer (any HTTP status)? null when it does, else why not. */
export async function urlReachable(url: string, timeoutMs = 5000): Promise<string | null> {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    return null;
  } catch (e) {
    const c = (e as { cause?: { code?: string; message?: string } }).cause;
    return c?.code ?? c?.message ?? errorMessage(e);
  }
}

/** The experiment as deployed now (its state's snapshot), when ready. */
export function deployed(name: string): { phase: string; snapshot: Record<string, unknown> } | undefined {
  const st = readState(stateDirOf(name));
  return st ? { phase: st.phase, snapshot: st.experimentSnapshot as unknown as Record<string, unknown> } : undefined;
}

/**
 * Bring the experiment to the setup of this group: nothing when it is deployed so already; setup
 * again on the same hosts when only services or their settings change; killjob then setup when the
 * hosts change (roles, platform). Returns the entry recorded in sweep.json.
 */
export async function ensureSetup(s: SweepSetups, g: SetupGroup, signal?: AbortSignal): Promise<SweepSetupEntry> {
  const t0 = Date.now();
  const ov = setupOverrides(s, g, baseOf(s));
  const now = deployed(s.name);
  const changed = now ? changedPaths(now.snapshot, ov) : Object.keys(ov);
  let how: SweepSetupEntry['how'];
  if (now && now.phase === 'ready' && changed.length === 0) how = 'as found';
  else {
    const recreate = Boolean(now) && (now!.phase !== 'ready' || needsRecreate(changed));
    how = !now ? 'set up' : recreate ? 'made again' : 'set up again';
    s.progress(`setup for ${setupLabel(g.assignments)}: ${!now ? 'setting up' : recreate ? `killjob, then setup (${changed.join(', ') || 'the setup is ' + now!.phase} changes the hosts)` : `setup again on the same hosts (${changed.join(', ')})`}`);
    if (recreate) await killjob(s.name, { progress: (l) => s.progress(`  ${l}`), ...(signal ? { signal } : {}) });
    await setup({ exp: s.exp, set: [...s.set, ...overrideSets(ov)], progress: (l) => s.progress(`  ${l}`), ...(signal ? { signal } : {}) });
  }
  const entry: SweepSetupEntry = { key: g.key, label: setupLabel(g.assignments), assignments: g.assignments, how, at: new Date(t0).toISOString(), seconds: (Date.now() - t0) / 1000 };
  const brokers = await liveBrokers(s.name);
  if (brokers) {
    entry.brokers = brokers;
    s.progress(`setup ${entry.label}: ${how}${how === 'as found' ? '' : ` in ${Math.round(entry.seconds)} s`}; Kafka lists ${brokers.length} broker${brokers.length === 1 ? '' : 's'} (${brokers.map((b) => b.address).join(', ')})`);
  } else s.progress(`setup ${entry.label}: ${how}`);
  return entry;
}

/** The brokers Kafka's metadata lists (a check of what really came up), when Kafka is deployed. */
async function liveBrokers(name: string): Promise<Array<{ id: number; address: string }> | undefined> {
  const st = readState(stateDirOf(name));
  const bootstrap = (st?.endpoints?.kafka_bootstrap_servers ?? '').split(',').filter(Boolean);
  if (!bootstrap.length) return undefined;
  try {
    return await kafkaBrokers(bootstrap);
  } catch (e) {
    // Not reachable from this machine (a remote cluster behind a gateway): the record says so.
    return [{ id: -1, address: `unknown: ${errorMessage(e)}` }];
  }
}

/**
 * On the way out, whatever happened: an experiment the sweep set up is killed; a setup the user had
 * is set up again as it was when the sweep changed it. Never throws; returns the line saying in
 * which state the experiment is left.
 */
export async function restoreSetup(s: SweepSetups): Promise<string> {
  try {
    if (!s.original) {
      if (!deployed(s.name)) return `experiment ${s.name}: nothing set up by the sweep is left`;
      s.progress(`taking down what the sweep set up: killjob ${s.name} (Ctrl-C again leaves it up; then run \`entrypoint killjob ${s.name}\`)`);
      await killjob(s.name, { progress: (l) => s.progress(`  ${l}`) });
      return `experiment ${s.name}: the sweep set it up and has taken it down (killjob)`;
    }
    const base = { services: s.original.services as string[], roles: s.original.roles as Record<string, number> };
    const ov: Record<string, unknown> = setupOverrides(s, { assignments: {} }, base);
    for (const p of s.paths) if (p !== `${s.section}.broker`) ov[p] = valueAt(s.original, p);
    ov.services = base.services;
    const now = deployed(s.name);
    const changed = now ? changedPaths(now.snapshot, ov) : Object.keys(ov);
    if (now && now.phase === 'ready' && changed.length === 0) return `experiment ${s.name}: left set up as it was before the sweep`;
    s.progress(`setting ${s.name} up again as it was before the sweep (${changed.map((p) => `${p}=${JSON.stringify(valueAt(s.original, p))}`).join(', ')}); Ctrl-C again leaves it as the sweep's last setup`);
    const recreate = !now || now.phase !== 'ready' || needsRecreate(changed);
    if (recreate && now) await killjob(s.name, { progress: (l) => s.progress(`  ${l}`) });
    await setup({ exp: s.exp, set: [...s.set, ...overrideSets(ov)], progress: (l) => s.progress(`  ${l}`) });
    return `experiment ${s.name}: set up again as it was before the sweep`;
  } catch (e) {
    const now = deployed(s.name);
    return `experiment ${s.name}: could not be brought back as it was before the sweep (${errorMessage(e)}); it is ${now ? `${now.phase} with ${setupLabel(Object.fromEntries(s.paths.map((p) => [p, valueAt(now.snapshot, p)])))}` : 'not set up'}: run \`entrypoint setup ${s.name}\` (or \`entrypoint killjob ${s.name}\`)`;
  }
}
