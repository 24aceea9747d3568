import type { Command } from 'commander';
import { collect } from '../options.js';
import { table } from '../output.js';
import { interruptSignal, progressLine } from './setup.js';

export function registerRace(program: Command): void {
  program
    .command('race')
    .description('run a Podrace-style racefile: deploy, warm-up laps, benchmark laps, collectors, cleanup')
    .argument('<racefile>', 'racefile (YAML, or a Nunjucks template of one)')
    .requiredOption('--exp <exp>', 'experiment whose hosts run the race (after its `setup`)')
    .option('--param <name=value>', 'a racefile template parameter (repeatable)', collect, [])
    .option('--set <key.path=value>', 'override an experiment configuration key (repeatable)', collect, [])
    .option('--json', 'print the run record as JSON')
    .action(async (racefile: string, o: { exp: string; param: string[]; set: string[]; json?: boolean }) => {
      const { race } = await import('../../app/race.js');
      const intr = interruptSignal('the race (cleaning up)');
      try {
        const out = await race({ racefile, exp: o.exp, params: o.param, set: o.set, signal: intr.signal, progress: progressLine });
        if (o.json) {
          process.stdout.write(JSON.stringify(out.record, null, 2) + '\n');
          return;
        }
        const rows = (out.outcome?.collected ?? []).map((c) => [
          c.host,
          c.path,
          c.parsed?.throughputOpsPerSecond?.toFixed(1) ?? '-',
          c.parsed?.latencyMicroseconds ? `${c.parsed.latencyMicroseconds.p50}/${c.parsed.latencyMicroseconds.p90}/${c.parsed.latencyMicroseconds.p99}` : '-',
        ]);
        if (rows.length) process.stdout.write(table(rows, ['host', 'collected', 'ops/s', 'p50/p90/p99 µs']) + '\n');
        const { energySummaryRows } = await import('../../app/energy-summary.js');
        const w = out.record.window;
        process.stdout.write(table(energySummaryRows(out.record.energy, { experiment: out.record.experiment, ...(w ? { seconds: w.end - w.start } : {}) })) + '\n');
        process.stdout.write(`run ${out.record.id}: ${out.dir}\n`);
      } finally {
        intr.dispose();
      }
    });
}
