import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { FLAGS, TOOL_CHOICES, flagOverrides } from '../../app/flags.js';
import { addFlagOptions, collect, flagValues, intOption, numberOption } from '../options.js';
import { table } from '../output.js';
import type { RunRecord } from '../../app/query.js';
import { interruptSignal, progressLine } from './setup.js';

interface NetOpts extends Record<string, unknown> {
  set: string[];
  matrix?: boolean;
  allPairs?: boolean;
  ring?: boolean;
  random?: boolean;
  every?: number;
  count?: number;
  json?: boolean;
}

export function registerNet(program: Command): void {
  const cmd = program
    .command('net')
    .description(`network benchmark between hosts (${TOOL_CHOICES.net.join(', ')}), or the latency matrix (--matrix)`)
    .argument('<exp>', 'experiment name or path (hosts from its `setup`)');
  addFlagOptions(cmd, FLAGS.net, { tool: TOOL_CHOICES.net })
    .option('--matrix', `latency between hosts: CSV + Pushgateway (net.matrix; tools ${TOOL_CHOICES.matrix.join(', ')}; --tool, --protocol, --duration, --length set net.matrix.*)`)
    .option('--all-pairs', 'matrix over every ordered pair (default)')
    .option('--ring', 'matrix from each host to the next one only')
    .option('--random', 'matrix from each host to a random other host (a new draw each matrix)')
    .option('--every <seconds>', 'repeat the matrix every N seconds until Ctrl-C (or --count)', numberOption('--every', { exclusiveMin: 0 }))
    .option('--count <n>', 'with --every: stop after n matrices', intOption('--count', 1))
    .option('--set <key.path=value>', 'override a configuration key (repeatable)', collect, [])
    .option('--json', 'print the run record(s) as JSON')
    .action(async (exp: string, o: NetOpts) => {
      if ([o.allPairs, o.ring, o.random].filter(Boolean).length > 1) throw new InvalidArgumentError('--all-pairs, --ring and --random exclude each other');
      const { runNet, runMatrix } = await import('../../app/net.js');
      const { energySummaryRows } = await import('../../app/energy-summary.js');
      const energyTable = (rec: RunRecord): string =>
        table(energySummaryRows(rec.energy, { experiment: rec.experiment, ...(rec.window ? { seconds: rec.window.end - rec.window.start } : {}) }));
      const values = flagValues(FLAGS.net, o);
      const flags = o.matrix ? FLAGS.matrix : FLAGS.net;
      const unused = Object.keys(values).filter((k) => !flags.some((f) => f.name === k));
      if (unused.length) {
        const { UsageError } = await import('../../core/errors.js');
        throw new UsageError('usage.net_matrix', `${unused.map((k) => `--${k}`).join(', ')} ${unused.length > 1 ? 'do' : 'does'} not apply to --matrix (its settings are net.matrix.*; use --set)`);
      }
      const overrides = flagOverrides(flags, values);
      const intr = interruptSignal(o.matrix ? 'the latency matrix' : 'the network run');
      try {
        if (o.matrix) {
          const mode = o.ring ? 'ring' : o.random ? 'random' : o.allPairs ? 'all-pairs' : undefined;
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
              const basis = record.parameters.latency === 'round_trip_2x_half' ? `round trip = 2 × ${String(record.parameters.tool)} half round trip` : `${String(record.parameters.tool)} round trip`;
              process.stdout.write(table(body, ['origin', 'destination', 'p50 µs', 'p90 µs', 'p99 µs']) + `\n${basis}, microseconds\n`);
              process.stdout.write(energyTable(record) + '\n');
              process.stdout.write(`run ${record.id}: ${csvPath}${record.results?.pushedTo ? `, pushed to ${String(record.results.pushedTo)}` : ''}\n`);
            },
          });
          if (o.json) process.stdout.write(JSON.stringify(recs, null, 2) + '\n');
          return;
        }
        const out = await runNet({ exp, set: o.set, overrides, signal: intr.signal, progress: progressLine });
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
          ) + `\n${energyTable(out.record)}\nrun ${out.record.id}: ${out.dir}\n`,
        );
      } finally {
        intr.dispose();
      }
    });
}
