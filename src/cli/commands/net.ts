import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { collect, intOption, numberOption } from '../options.js';
import { table } from '../output.js';
import { interruptSignal, progressLine } from './setup.js';

interface NetOpts {
  tool?: string;
  set: string[];
  protocol?: string;
  streams?: number;
  duration?: string;
  length?: number;
  bitrate?: string;
  reverse?: boolean;
  pcp?: boolean;
  matrix?: boolean;
  allPairs?: boolean;
  ring?: boolean;
  every?: number;
  count?: number;
  json?: boolean;
}

const TOOLS = ['iperf3', 'uperf', 'netperf', 'sockperf'];

export function registerNet(program: Command): void {
  program
    .command('net')
    .description('network benchmark between hosts (iperf3, uperf, netperf, sockperf), or the latency matrix (--matrix)')
    .argument('<exp>', 'experiment name or path (hosts from its `setup`)')
    .option('--tool <tool>', `iperf3 | uperf | netperf | sockperf (default: net.tool)`, (v: string) => {
      if (!TOOLS.includes(v)) throw new InvalidArgumentError(`must be one of ${TOOLS.join(', ')}`);
      return v;
    })
    .option('--protocol <p>', 'tcp | udp (net.protocol)')
    .option('--streams <n>', 'parallel streams / threads (net.streams)', intOption('--streams', 1, 128))
    .option('--duration <d>', 'seconds or e.g. 30s (net.duration)')
    .option('--length <bytes>', 'message / buffer length (net.message_size)', intOption('--length', 1, 64 * 1024 * 1024))
    .option('--bitrate <rate>', 'iperf3 target bitrate, e.g. 1G (net.bitrate)')
    .option('--reverse', 'server sends, client receives (net.reverse)')
    .option('--pcp', 'record PCP metrics (pmlogger) on server and client; summary in the run record (net.pcp)')
    .option('--matrix', 'latency between hosts: CSV + Pushgateway (net.matrix)')
    .option('--all-pairs', 'matrix over every ordered pair (default)')
    .option('--ring', 'matrix from each host to the next one only')
    .option('--every <seconds>', 'repeat the matrix every N seconds until Ctrl-C (or --count)', numberOption('--every', { exclusiveMin: 0 }))
    .option('--count <n>', 'with --every: stop after n matrices', intOption('--count', 1))
    .option('--set <key.path=value>', 'override a configuration key (repeatable)', collect, [])
    .option('--json', 'print the run record(s) as JSON')
    .action(async (exp: string, o: NetOpts) => {
      if (o.allPairs && o.ring) throw new InvalidArgumentError('--all-pairs and --ring exclude each other');
      const { runNet, runMatrix } = await import('../../app/net.js');
      const overrides: Array<{ path: string; value: unknown; flag: string }> = [];
      const ov = (path: string, value: unknown, flag: string): void => {
        if (value !== undefined) overrides.push({ path, value, flag });
      };
      ov('net.protocol', o.protocol, '--protocol');
      ov('net.streams', o.streams, '--streams');
      ov('net.duration', o.duration, '--duration');
      ov('net.message_size', o.length, '--length');
      ov('net.bitrate', o.bitrate, '--bitrate');
      if (o.reverse) ov('net.reverse', true, '--reverse');
      if (o.pcp) ov('net.pcp', true, '--pcp');
      const intr = interruptSignal(o.matrix ? 'the latency matrix' : 'the network run');
      try {
        if (o.matrix) {
          if (o.tool) ov('net.matrix.tool', o.tool, '--tool');
          const mode = o.ring ? 'ring' : o.allPairs ? 'all-pairs' : undefined;
          const recs = await runMatrix({
            exp,
            set: o.set,
            overrides,
            ...(mode ? { mode } : {}),
            ...(o.every !== undefined ? { every: o.every } : {}),
            ...(o.count !== undefined ? { count: o.count } : {}),
            signal: intr.signal,
            progress: progressLine,
            onMatrix: ({ rows, csvPath, record }) => {
              if (o.json) return;
              const body = rows.map((r) => [r.origin, r.destination, ...(r.latency ? [r.latency.p50, r.latency.p90, r.latency.p99].map((v) => v.toFixed(1)) : ['-', '-', r.error ?? 'failed'])]);
              process.stdout.write(table(body, ['origin', 'destination', 'p50 µs', 'p90 µs', 'p99 µs']) + '\n');
              process.stdout.write(`run ${record.id}: ${csvPath}${record.results?.pushedTo ? `, pushed to ${String(record.results.pushedTo)}` : ''}\n`);
            },
          });
          if (o.json) process.stdout.write(JSON.stringify(recs, null, 2) + '\n');
          return;
        }
        const out = await runNet({ exp, set: o.set, overrides, ...(o.tool ? { tool: o.tool as 'iperf3' } : {}), signal: intr.signal, progress: progressLine });
        if (o.json) {
          process.stdout.write(JSON.stringify(out.record, null, 2) + '\n');
          return;
        }
        const r = out.result!;
        const fmt = (v: number | null | undefined, div = 1, digits = 2): string => (v === null || v === undefined ? '-' : (v / div).toFixed(digits));
        process.stdout.write(
          table(
            [[
              String(out.record.parameters.client), String(out.record.parameters.server), r.protocol,
              fmt(r.throughputBitsPerSecond, 1e9, 3), fmt(r.throughputOpsPerSecond, 1, 0),
              r.latencyMicroseconds ? `${fmt(r.latencyMicroseconds.p50)}/${fmt(r.latencyMicroseconds.p90)}/${fmt(r.latencyMicroseconds.p99)}` : '-',
              r.retransmits === null ? '-' : String(r.retransmits), fmt(r.lossPercent), fmt(r.cpu?.localPercent ?? null, 1, 1),
            ]],
            ['client', 'server', 'proto', 'Gbit/s', 'ops/s', 'p50/p90/p99 µs', 'retrans', 'loss %', 'cpu %'],
          ) + `\nrun ${out.record.id}: ${out.dir}\n`,
        );
      } finally {
        intr.dispose();
      }
    });
}
