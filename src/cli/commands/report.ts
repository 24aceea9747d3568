import type { Command } from 'commander';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('one self-contained HTML report (SVG figures, table of runs) from the records in results/<exp>/')
    .argument('<exp>', 'experiment name (its results/<exp>/ folder)')
    .option('--sweep <id>', 'only this sweep (its runs, its searches) instead of every run')
    .option('--compare <a,b>', 'side by side: two sweeps, two searches, or two path=value selections (ingest.partitions=1,ingest.partitions=3)')
    .option('--out <file>', 'where to write the HTML (default results/<exp>/report.html)')
    .option('--no-prometheus', 'do not query Prometheus for the power figure')
    .option('--open', 'print the path of the report to open (no browser is started)')
    .action(async (exp: string, opts: { sweep?: string; compare?: string; out?: string; prometheus: boolean; open?: boolean }) => {
      const { writeReport } = await import('../../app/report.js');
      const { dim, yellow } = await import('../output.js');
      const r = await writeReport({
        experiment: exp,
        ...(opts.sweep ? { sweep: opts.sweep } : {}),
        ...(opts.compare ? { compare: opts.compare } : {}),
        ...(opts.out ? { out: opts.out } : {}),
        ...(opts.prometheus === false ? { noPrometheus: true } : {}),
      });
      const drawn = r.figures.filter((f) => f.svg);
      for (const f of r.figures) if (!f.svg) process.stderr.write(dim(`not drawn: ${f.title}: ${f.unavailable}`) + '\n');
      if (!drawn.length) process.stderr.write(yellow('no figure could be drawn from these records') + '\n');
      process.stdout.write(`report: ${r.path} (${drawn.length} of ${r.figures.length} figures, ${r.data.runs.length} runs)\n`);
      if (opts.open) process.stdout.write(`open it with a browser: file://${r.path}\n`);
    });
}
