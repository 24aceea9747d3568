import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InterruptedError, UsageError } from '../../core/errors.js';
import { PushgatewayClient } from '../../metrics/pushgateway.js';
import type { RunRecord } from '../../runs/record.js';
import type { RunContext } from '../contract.js';
import type { NetParams } from '../net/tools/driver.js';
import { tool } from '../net/tools/registry.js';
import type { NetConfig } from '../net/schema.js';
import { basisOf, matrixCsv, matrixGauges, type MatrixRow } from './report.js';
import { measureMatrix } from './run.js';
import { K8sExecutor } from '../../runtimes/k8s/executor.js';
import { measureMatrixK8s, type K8sMatrixOutcome } from './k8s.js';
import type { MatrixMode } from './schedule.js';

export interface MatrixArgs {
  mode?: MatrixMode;
  /** Repeat every N seconds until `count` runs or Ctrl-C. */
  every?: number;
  count?: number;
  /** Called after each matrix. */
  onMatrix?: (m: { record: RunRecord; rows: MatrixRow[]; csvPath: string; iteration: number }) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal?.aborted) return res();
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
  });
}

/** The programs of the matrix tool on every host of the matrix. */
export const matrixNeeds = (n: Pick<NetConfig, 'matrix'>): Array<{ on: string; programs: string[] }> => {
  const t = tool(n.matrix.tool);
  return [{ on: 'hosts', programs: [...t.programs.server, ...t.programs.client] }];
};

/**
 * The latency matrix: every ordered pair (or the ring), as CSV in the run folder and as gauges on
 * the Pushgateway (PUT: the group is replaced, so no stale pairs), labelled origin/destination.
 * With `every`, repeats (one run record per matrix) until `count` or an abort.
 */
export async function runMatrix(ctx: RunContext<NetConfig, MatrixArgs>): Promise<RunRecord[]> {
  const m = ctx.config.matrix;
  const o = ctx.args;
  const mode = o.mode ?? m.mode;
  const t = tool(m.tool);
  const p: NetParams = {
    tool: m.tool,
    protocol: m.protocol,
    streams: 1,
    duration: m.duration,
    reverse: false,
    port: m.port,
    requestSize: m.request_size,
    responseSize: m.response_size,
    ...(m.message_size ? { messageSize: m.message_size } : {}),
  };
  const basis = basisOf(t.latencyBasis);
  const hosts = m.roles ? ctx.hosts.filter((h) => h.roles.some((r) => m.roles!.includes(r))) : ctx.hosts;
  if (hosts.length < 2) throw new UsageError('net.matrix.too_few_hosts', `the latency matrix needs at least 2 hosts (the experiment has ${hosts.length}${m.roles ? ` in roles ${m.roles.join(', ')}` : ''})`);
  const k8s = ctx.executor instanceof K8sExecutor ? ctx.executor : undefined;
  // On Kubernetes the programs come with the image.
  if (!k8s) await ctx.preflight(matrixNeeds(ctx.config), () => hosts);
  const facts = await ctx.hostFacts(hosts);
  const pgUrl = ctx.endpoints.pushgateway_url;
  const push = m.push && pgUrl ? new PushgatewayClient(pgUrl) : undefined;
  const records: RunRecord[] = [];
  const limit = o.count ?? (o.every !== undefined ? Number.POSITIVE_INFINITY : 1);
  for (let it = 1; it <= limit; it++) {
    if (ctx.signal?.aborted) break;
    const t0 = Date.now();
    const sizes = m.tool === 'netperf' ? { request_size: m.request_size, response_size: m.response_size } : { message_size: m.message_size ?? null };
    const run = ctx.startRun(
      { tool: m.tool, mode, protocol: m.protocol, duration: m.duration, ...sizes, latency: basis, unit: 'microseconds', hosts: hosts.map((h) => h.name), iteration: it, every: o.every ?? null, ...(k8s ? { runtime: 'k3s', network: m.network, namespace: k8s.namespace } : {}) },
      { label: 'latency-matrix' },
    );
    const rec = run.record;
    rec.hosts = facts;
    if (!k8s) for (const h of hosts) ctx.place(run, h, `${t.name} server and client`);
    try {
      const sig = ctx.signal ? { signal: ctx.signal } : {};
      const out = await ctx.withNetem(run, () =>
        k8s
          ? measureMatrixK8s(k8s, hosts, t, p, { mode, network: m.network, roles: m.roles ?? [], runId: run.id, ...sig, progress: (l) => ctx.progress(l) })
          : measureMatrix(ctx.executor, hosts, t, p, { mode, ...sig, progress: (l) => ctx.progress(l) }),
      );
      const kout = k8s ? (out as K8sMatrixOutcome) : undefined;
      if (kout) for (const h of hosts) ctx.place(run, h, `${t.name} server and client (pod ${kout.pods[h.name]?.pod}, ${kout.pods[h.name]?.ip}, ${m.network} network)`);
      const csvPath = join(run.dir, 'latency.csv');
      writeFileSync(csvPath, matrixCsv(out.rows, m.metric_prefix, m.tool, basis));
      writeFileSync(join(run.dir, 'raw.json'), JSON.stringify(out.raw, null, 1));
      await ctx.closeWindow(run, { start: out.start, end: out.end });
      const measured = out.rows.filter((r) => r.latency).length;
      rec.results = { rows: out.rows, rounds: out.rounds, pairs: out.pairs, measured, failed: out.rows.length - measured, wallSeconds: (Date.now() - t0) / 1000, ...(kout ? { k8s: { network: m.network, pods: kout.pods, deleted: kout.deleted } } : {}) };
      rec.files = ['latency.csv', 'raw.json'];
      if (push) {
        await push.push(matrixGauges(out.rows, m.metric_prefix, m.tool, basis), { job: m.push_job, groupings: { experiment: ctx.experiment.name }, mode: 'replace' });
        rec.results.pushedTo = pgUrl;
      }
      o.onMatrix?.({ record: rec, rows: out.rows, csvPath, iteration: it });
    } catch (e) {
      ctx.finishRun(run, e);
      records.push(rec);
      throw e;
    }
    ctx.finishRun(run);
    records.push(rec);
    if (it < limit && o.every !== undefined) await sleep(Math.max(0, o.every * 1000 - (Date.now() - t0)), ctx.signal);
  }
  if (ctx.signal?.aborted && records.length === 0) throw new InterruptedError('latency matrix interrupted');
  return records;
}
