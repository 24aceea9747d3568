import type { Command } from 'commander';
import { intOption } from '../options.js';

export function registerBaseline(program: Command): void {
  program
    .command('baseline')
    .description('measure idle watts per machine (with their source, kind and coverage) and store them for dynamic-energy figures')
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
        // Per machine: hosts of one machine read the same counters and are measured once.
        const rows = r.account.machines.map((m) => [
          m.machine,
          m.hosts.join(', '),
          m.joules === null ? '-' : (m.joules / r.account.seconds).toFixed(2),
          m.source,
          m.kind,
          `${(m.coverage.fraction * 100).toFixed(0)} %`,
          String(m.coverage.samples),
          m.note ?? '',
        ]);
        process.stdout.write(table(rows, ['machine', 'hosts', 'idle W', 'source', 'kind', 'coverage', 'samples', 'note']) + '\n');
        for (const [s, m] of Object.entries(r.account.errors)) process.stdout.write(yellow(`source ${s} failed: ${m}`) + '\n');
        process.stdout.write(dim(`${r.account.seconds.toFixed(0)} s window; stored in ${r.path}`) + '\n');
      } finally {
        process.removeListener('SIGINT', onSig);
      }
    });
}
