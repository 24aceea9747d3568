/**
 * `baseline <exp> --seconds N`: measure idle power per host over N seconds on a set-up experiment
 * (nothing running but the monitoring stack) and store it in `.greenrace/<exp>/baseline.json`;
 * later energy accounts subtract it to give dynamic energy. Also exports `energyContext`, which the
 * run use cases share: Prometheus client, energy sources (Kwollect on Grid'5000) and hosts.
 */
import { existsSync } from 'node:fs';
import { GreenraceError, RunError, UsageError } from '../core/errors.js';
import { readJsonIfExists, writeJsonAtomic } from '../core/files.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import { PrometheusClient } from '../metrics/prometheus.js';
import { energySources, baselineFromAccount, type Baseline, type EnergyAccount, type EnergyHost, type EnergySource } from '../metrics/energy/index.js';
import { platformEnergySources } from '../platforms/index.js';
import { experimentNameOf, readState, type ExperimentState } from './state.js';
import { sleep as sleepFor } from '../core/sleep.js';
import { baseline as baselineWorkload } from '../workloads/baseline/index.js';
import { runWorkload } from './runs.js';
import { baselinePath, energyHosts } from './energy.js';

export { baselinePath };

export interface EnergyContext {
  prom: PrometheusClient;
  sources: EnergySource[];
  hosts: EnergyHost[];
  state: ExperimentState;
  stateDir: string;
}

/** Read the state of a set-up experiment and build what energy accounting needs. */
export async function energyContext(ref: string): Promise<EnergyContext> {
  const exp = experimentNameOf(ref);
  const dir = stateDirOf(exp);
  const st = existsSync(dir) ? readState(dir) : undefined;
  if (!st || !st.platform) throw new GreenraceError('state.not_set_up', `experiment ${exp} is not set up; run \`entrypoint setup ${exp}\``);
  if (st.phase !== 'ready') throw new GreenraceError('state.not_ready', `experiment ${exp} is not ready (phase ${st.phase}); run \`entrypoint setup ${exp}\` again`);
  const url = st.endpoints.prometheus_url;
  if (!url)
    throw new UsageError('energy.no_prometheus', `experiment ${exp} has no Prometheus: energy needs the monitoring services`, {
      hint: 'list node_exporter, prometheus and pushgateway under `services` in the experiment file, then run setup again',
    });
  const prom = new PrometheusClient(url);
  const extra = await platformEnergySources(st.platform, st.experimentSnapshot.platform);
  const sources = energySources(st.experimentSnapshot, prom, extra);
  // Hosts on one physical machine (all namespace hosts of the local platform) are accounted once.
  const hosts: EnergyHost[] = energyHosts(st.platform.hosts);
  return { prom, sources, hosts, state: st, stateDir: dir };
}

/** The stored idle baseline of an experiment, if any. */
export function readBaseline(ref: string): Baseline | undefined {
  return readJsonIfExists<Baseline>(baselinePath(stateDirOf(experimentNameOf(ref))));
}

export interface BaselineResult {
  baseline: Baseline;
  account: EnergyAccount;
  path: string;
}

export interface BaselineOptions {
  seconds: number;
  /** Called once a second with seconds left (for a progress line). */
  onTick?: (left: number) => void;
  signal?: AbortSignal;
}

/** Sleep `ms`; Ctrl-C ends it (the baseline's interruption). */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> => sleepFor(ms, signal, () => new RunError('run.interrupted', 'baseline interrupted'));

export async function measureBaseline(ref: string, opts: BaselineOptions): Promise<BaselineResult> {
  if (!(opts.seconds >= 5)) throw new UsageError('baseline.seconds', `--seconds must be at least 5 (got ${opts.seconds})`);
  const ctx = await energyContext(ref);
  // Make sure Prometheus answers before idling for N seconds.
  const targets = await ctx.prom.targets();
  if (targets.length === 0) throw new RunError('baseline.no_targets', `Prometheus ${ctx.prom.url} scrapes no targets`);
  // The idle window through the baseline workload (its run context: phase check, energy account).
  const { account } = await runWorkload(baselineWorkload, { seconds: opts.seconds, ...(opts.onTick ? { onTick: opts.onTick } : {}) }, { exp: ref, ...(opts.signal ? { signal: opts.signal } : {}) });
  const baseline = baselineFromAccount(ctx.state.experiment, account);
  if (Object.keys(baseline.hosts).length === 0)
    throw new RunError('baseline.no_data', `no energy source had data for any host over the ${opts.seconds} s window`, {
      details: account.hosts.map((h) => `${h.host}: ${h.note ?? 'no data'}`).concat(Object.entries(account.errors).map(([s, m]) => `${s}: ${m}`)),
    });
  const path = baselinePath(ctx.stateDir);
  writeJsonAtomic(path, baseline);
  return { baseline, account, path };
}
