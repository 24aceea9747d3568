import type { Command } from 'commander';
import { intOption } from '../options.js';

export function registerBaseline(program: Command): void {
  program
    .command('baseline')
    .description('measure idle watts per host (with their source) and store them for dynamic-energy figures')
    .argument('<exp>', 'experiment name (set up with `setup`)')
    .option('--seconds <n>', 'length of the idle window', intOption('--seconds', 5, 86_400), 30)
    .option('--json', 'print the stored baseline as JSON')
    .action(async (exp: string, opts: { seconds: number; json?: boolean }) => {
      const { measureBaseline } = await import('../../app/baseline.js');
      const { table, dim, yellow } = await import('../output.js');
      const ac = new AbortController();
      const onSig = () => ac.abort();
      process.once('SIGINT', onSig);
      const tty = Boolean(process.stderr.isTTY);
      try {
        const r = await measureBaseline(exp, {
          seconds: opts.seconds,
          signal: ac.signal,
          onTick: (left) => {
            if (tty) process.stderr.write(`\r${dim(`measuring idle power: ${left} s left `)}`);
          },
        });
        if (tty) process.stderr.write('\r\x1b[K');
        if (opts.json) {
          process.stdout.write(JSON.stringify(r.baseline, null, 2) + '\n');
          return;
        }
        const rows = r.account.hosts.map((h) => [
          h.host,
          h.joules === null ? '-' : (h.joules / r.account.seconds).toFixed(1),
          h.source,
          `${(h.coverage.fraction * 100).toFixed(0)} %`,
          String(h.coverage.samples),
          h.note ?? '',
        ]);
        process.stdout.write(table(rows, ['host', 'idle W', 'source', 'coverage', 'samples', 'note']) + '\n');
        for (const [s, m] of Object.entries(r.account.errors)) process.stdout.write(yellow(`source ${s} failed: ${m}`) + '\n');
        process.stdout.write(dim(`${r.account.seconds.toFixed(0)} s window; stored in ${r.path}`) + '\n');
      } finally {
        process.removeListener('SIGINT', onSig);
      }
    });
}
