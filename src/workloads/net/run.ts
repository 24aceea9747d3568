import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../../runs/record.js';
import type { RunContext } from '../contract.js';
import { netDir } from './tools/driver.js';
import { tool } from './tools/registry.js';
import { runPair } from './tools/run-pair.js';
import type { NetResult } from './tools/types.js';
import { choosePair, paramsOf } from './params.js';
import { K8sExecutor } from '../../runtimes/k8s/executor.js';
import { runNetK8s } from './k8s.js';
import type { NetConfig } from './schema.js';

export interface NetOutcome {
  record: RunRecord;
  dir: string;
  result?: NetResult;
}

/** One measurement between two hosts: results/<exp>/<uuid>/{run.json,client.out} and a runs.csv line. */
export async function runNet(ctx: RunContext<NetConfig>): Promise<NetOutcome> {
  // On Kubernetes: the Arcaflow workflow's pods and Service (net/k8s.ts).
  if (ctx.executor instanceof K8sExecutor) return runNetK8s(ctx, ctx.executor);
  const n = ctx.config;
  const t = tool(n.tool);
  const p = paramsOf(n, t);
  const { server, client } = choosePair(ctx.hosts, n.server_role, n.client_role, n.allow_same_host);
  const run = ctx.startRun({ ...p, server: server.name, client: client.name, serverRole: n.server_role, clientRole: n.client_role }, { label: t.name });
  const rec = run.record;
  let result: NetResult;
  try {
    ctx.progress(`run ${run.id}: ${t.name} ${client.name} → ${server.name} (${p.protocol}, ${p.duration} s)`);
    rec.hosts = await ctx.hostFacts([server, client]);
    ctx.place(run, server, `${t.name} server`);
    ctx.place(run, client, `${t.name} client`);
    await ctx.preflight(netNeeds(n), (on) => (on === 'server' ? [server] : [client]), run, { pcp: n.pcp });
    const plan = { server, client, serverAddress: server.address, clientDir: `${netDir(client)}/${run.id}` };
    const out = await ctx.withPcp(run, [server, client], p.duration + 300, () =>
      ctx.withNetem(run, () => runPair(ctx.executor, t, p, plan, ctx.signal ? { signal: ctx.signal } : {})),
    );
    writeFileSync(join(run.dir, 'client.out'), out.stdout);
    if (out.stderr) writeFileSync(join(run.dir, 'client.err'), out.stderr);
    result = out.result;
    await ctx.closeWindow(run, { start: out.start, end: out.end });
    const pcp = rec.results ?? {};
    rec.results = { ...result, ...(pcp.pcp ? { pcp: pcp.pcp } : {}), ...(pcp.pcpErrors ? { pcpErrors: pcp.pcpErrors } : {}) };
    rec.files = ['client.out', ...(rec.files ?? [])];
    if (typeof result.extra.version === 'string') rec.versions = { [t.name]: result.extra.version };
  } catch (e) {
    ctx.finishRun(run, e);
    throw e;
  }
  ctx.finishRun(run);
  return { record: rec, dir: run.dir, result };
}

/** The programs of the tool on the server and the client. */
export function netNeeds(n: Pick<NetConfig, 'tool'>): Array<{ on: string; programs: string[] }> {
  const t = tool(n.tool);
  return [
    { on: 'server', programs: t.programs.server },
    { on: 'client', programs: t.programs.client },
  ];
}

/** The runs.csv line of a network measurement. */
export function netCsvRow(r: RunRecord): Record<string, unknown> {
  const p = r.parameters as Record<string, unknown>;
  const x = (r.results ?? {}) as Partial<NetResult>;
  return {
    run_id: r.id,
    workload: r.workload,
    started_at: r.startedAt,
    server: p.server,
    client: p.client,
    protocol: p.protocol,
    streams: p.streams,
    duration_s: p.duration,
    throughput_bps: x.throughputBitsPerSecond,
    ops_per_s: x.throughputOpsPerSecond,
    p50_us: x.latencyMicroseconds?.p50,
    p90_us: x.latencyMicroseconds?.p90,
    p99_us: x.latencyMicroseconds?.p99,
    retransmits: x.retransmits,
    loss_percent: x.lossPercent,
    cpu_local_percent: x.cpu?.localPercent,
    cpu_remote_percent: x.cpu?.remotePercent,
  };
}
