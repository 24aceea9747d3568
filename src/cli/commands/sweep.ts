import type { Command } from 'commander';
import { collect, intOption, numberOption } from '../options.js';

interface Flags {
  grid: string[];
  repetitions?: number;
  order?: string;
  seed?: number;
  idleBetween?: number;
  cvThreshold?: number;
  set: string[];
  json?: boolean;
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('run a grid of config values with repetitions (the experiment\'s sweep: section, flags over it); per point mean, sd, 95 % CI and CV into sweep.csv/sweep.json; re-running the same sweep resumes it')
    .argument('<exp>', 'experiment name (set up with `entrypoint setup <exp>`)')
    .option('--grid <path=a,b,c>', 'a factor: config path and its values (repeatable; replaces the file\'s sweep.factors entry of that path); ingest.load=max runs a search per point', collect, [])
    .option('--repetitions <n>', 'runs per point (default: sweep.repetitions, 3)', intOption('--repetitions', 1, 1000))
    .option('--order <sequential|random>', 'run order; random is shuffled with --seed (default: sweep.order, sequential)')
    .option('--seed <n>', 'seed of the random order (default: sweep.seed, 1)', intOption('--seed', 0))
    .option('--idle-between <seconds>', 'idle window between runs, recorded as a baseline (default: sweep.idle_between, 0)', intOption('--idle-between', 0, 86_400))
    .option('--cv-threshold <fraction>', 'flag a point whose coefficient of variation exceeds this (default: sweep.cv_threshold, 0.1)', numberOption('--cv-threshold', { exclusiveMin: 0 }))
    .option('--set <key.path=value>', 'override a configuration key for every run (repeatable)', collect, [])
    .option('--json', 'print sweep.json at the end')
    .action(async (exp: string, f: Flags) => {
      const { parseGridFlag, mergeFactors, formatSeconds } = await import('../../app/campaigns/arguments.js');
      const { runSweep } = await import('../../app/campaigns/sweep.js');
      const { UsageError } = await import('../../core/errors.js');
      const { bold, dim, yellow, table } = await import('../output.js');
      if (f.order !== undefined && f.order !== 'sequential' && f.order !== 'random') throw new UsageError('usage.bad_option', `--order ${f.order}: expected sequential or random`);
      const factors = mergeFactors([], f.grid.map(parseGridFlag)); // the file's sweep.factors are merged under these by the app
      const ac = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        interrupts++;
        if (interrupts === 1) {
          process.stderr.write('\ninterrupted: stopping the current run (its topic and generators are cleaned up); the sweep can be resumed (Ctrl-C again to leave at once)\n');
          ac.abort();
        } else process.exit(130);
      };
      process.on('SIGINT', onSigint);
      try {
        const r = await runSweep({
          experiment: exp,
          factors,
          ...(f.repetitions !== undefined ? { repetitions: f.repetitions } : {}),
          ...(f.order !== undefined ? { order: f.order } : {}),
          ...(f.seed !== undefined ? { seed: f.seed } : {}),
          ...(f.idleBetween !== undefined ? { idleBetweenS: f.idleBetween } : {}),
          ...(f.cvThreshold !== undefined ? { cvThreshold: f.cvThreshold } : {}),
          set: f.set,
          signal: ac.signal,
          progress: (l) => process.stderr.write(dim(l) + '\n'),
          onRun: (e, left, eta, total) => {
            process.stdout.write(`${e.status === 'completed' ? 'done' : e.status}: ${e.pointKey} #${e.repetition} (${Math.round(e.seconds)} s, run ${e.runId}); ${total - left}/${total} done, ${left} left${eta !== null && left ? `, ETA ${formatSeconds(eta)}` : ''}\n`);
          },
        });
        const fmt = (v: number | null | undefined, d = 1): string => (v === null || v === undefined ? '—' : v >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(d));
        const rows = r.record.points.map((p) => {
          const t = p.stats.throughput;
          const e = p.stats.msgPerJ;
          const p99 = p.stats.p99Ms;
          return [
            p.key,
            String(t?.n ?? 0),
            t?.mean != null ? `${fmt(t.mean)} ± ${fmt(t.ci95?.halfWidth)}` : '—',
            t?.cv != null ? `${(t.cv * 100).toFixed(1)} %` : '—',
            p99?.mean != null ? fmt(p99.mean, 2) : '—',
            e?.mean != null ? `${fmt(e.mean, 2)} ± ${fmt(e.ci95?.halfWidth, 2)}` : '—',
            p.flagged.length ? yellow(`CV > ${r.record.cvThreshold * 100} %: ${p.flagged.join(', ')}`) : '',
          ];
        });
        process.stdout.write('\n' + table(rows, ['point', 'n', 'msg/s (mean ± 95 % CI)', 'CV', 'p99 ms', 'msg/J (mean ± CI)', '']) + '\n');
        process.stdout.write(bold(`sweep ${r.record.id}: ${r.record.status}`) + dim(` — ${r.path} and sweep.csv; report: entrypoint report ${exp} --sweep ${r.record.id}`) + '\n');
        if (f.json) process.stdout.write(JSON.stringify(r.record, null, 2) + '\n');
        if (r.record.status !== 'completed') process.exitCode = 5;
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
