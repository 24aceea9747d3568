/**
 * `net <exp>`: one network measurement between a server and a client (workloads/net), or the
 * latency matrix (workloads/matrix); and the experiment's network emulation outside runs (setup
 * with netem_apply: setup, killjob). Thin: the run context does the rest.
 */
import type { WorkHost } from '../core/types.js';
import type { RunRecord } from '../runs/record.js';
import type { Executor } from '../runtimes/executor.js';
import { HostExecutor } from '../runtimes/host/executor.js';
import { matrix } from '../workloads/matrix/index.js';
import type { MatrixArgs } from '../workloads/matrix/workload.js';
import { net } from '../workloads/net/index.js';
import type { NetOutcome } from '../workloads/net/run.js';
import { applyNetem, removeNetem } from '../workloads/netem/apply.js';
import { runWorkload, type ContextOptions } from './runs.js';
import { loadExperiment } from '../experiment/load.js';

export type NetCommon = ContextOptions;
export type { NetOutcome as NetRunOutcome };

/** One measurement between two hosts (`tool` overrides net.tool, as `--tool`). */
export function runNet(o: NetCommon & { tool?: string }): Promise<NetOutcome> {
  const overrides = [...(o.overrides ?? []), ...(o.tool ? [{ path: 'net.tool', value: o.tool, flag: '--tool' }] : [])];
  return runWorkload(net, undefined, { ...o, overrides });
}

export type MatrixRunOptions = NetCommon & MatrixArgs;

/** The latency matrix (repeated with `every`, one record per matrix). */
export function runMatrix(o: MatrixRunOptions): Promise<RunRecord[]> {
  const { mode, every, count, onMatrix, ...rest } = o;
  const args: MatrixArgs = { ...(mode ? { mode } : {}), ...(every !== undefined ? { every } : {}), ...(count !== undefined ? { count } : {}), ...(onMatrix ? { onMatrix } : {}) };
  return runWorkload(matrix, args, rest);
}

/** Apply the experiment's netem constraints now (setup with netem_apply: setup); the rules per host. */
export async function applyExperimentNetem(o: NetCommon & { hosts: WorkHost[] }): Promise<Record<string, unknown>> {
  const { experiment } = loadExperiment(o.exp, { set: o.set ?? [], ...(o.overrides ? { overrides: o.overrides } : {}) });
  if (!experiment.net.netem.length) return {};
  const ex = o.executor ?? new HostExecutor(o.stateDir ? { stateDir: o.stateDir } : {});
  try {
    return (await applyNetem(ex, o.hosts, experiment.net.netem, o.signal)).rules;
  } finally {
    if (!o.executor) await ex.close();
  }
}

/**
 * Remove greenrace's traffic shaping from every host of an experiment (for killjob; idempotent; a
 * no-op when nothing is applied). Returns what it removed, "host: removed dev".
 */
export async function clearNetem(hosts: WorkHost[], executor?: Executor): Promise<string[]> {
  const ex = executor ?? new HostExecutor();
  try {
    return await removeNetem(ex, hosts);
  } finally {
    if (!executor) await ex.close();
  }
}
