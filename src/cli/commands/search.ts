import type { Command } from 'commander';
import { collect, intOption, numberOption } from '../options.js';

interface Flags {
  strategy?: string;
  start?: number;
  precision?: number;
  minLoad?: number;
  maxLoad?: number;
  maxTrials?: number;
  probeFactor?: number;
  confirmWithin?: number;
  ramp?: boolean;
  minRatio?: number;
  p99Ms?: number;
  maxBacklog?: number;
  backlogGrace?: string;
  backlog: boolean;
  seedFrom?: string;
  trialWarmup?: string;
  trialDuration?: string;
  cooldown?: string;
  set: string[];
  json?: boolean;
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('find the max sustainable load under an SLO (achieved ≥ 95 % of target, no backlog, optional p99 bound); the experiment\'s search: section, flags over it; every trial is a run record')
    .argument('<exp>', 'experiment name (set up with `entrypoint setup <exp>`)')
    .option('--strategy <knee|double-bisect>', 'knee: locate the knee in one trial, then confirm (default: search.strategy, knee); double-bisect: GreenFlow\'s doubling then bisection')
    .option('--start <load>', 'first load (default: search.start, else the workload\'s load)', numberOption('--start', { exclusiveMin: 0 }))
    .option('--precision <fraction>', 'final bracket: high − low ≤ precision × low (default: search.precision, 0.05)', numberOption('--precision', { exclusiveMin: 0, max: 0.5 }))
    .option('--min-load <load>', 'lowest load to try (default: search.min_load, 1)', numberOption('--min-load', { exclusiveMin: 0 }))
    .option('--max-load <load>', 'highest load to try (default: search.max_load, 1000000)', numberOption('--max-load', { exclusiveMin: 0 }))
    .option('--max-trials <n>', 'stop after this many trials (default: search.max_trials, 15)', intOption('--max-trials', 2, 1000))
    .option('--no-ramp', 'knee: find the knee with an overload probe instead of one ramp trial (default: search.ramp, true)')
    .option('--probe-factor <x>', 'knee: the overload probe is this many times the start (default: search.probe_factor, 8)', numberOption('--probe-factor', { exclusiveMin: 1 }))
    .option('--confirm-within <fraction>', 'knee: retry a failure within this fraction above a passing load before it bounds the bracket; the majority of the load\'s trials decides (default: search.confirm_within, 0.1; 0: off; double-bisect ignores it)', numberOption('--confirm-within', { min: 0, max: 1 }))
    .option('--min-ratio <fraction>', 'SLO: achieved ≥ this × target (default: search.slo.min_ratio, 0.95)', numberOption('--min-ratio', {}))
    .option('--p99-ms <ms>', 'SLO: p99 latency bound in ms (default: search.slo.p99_ms, none)', numberOption('--p99-ms', {}))
    .option('--max-backlog <messages>', 'SLO: overdue messages tolerated at the end (default: search.slo.max_backlog, 0)', intOption('--max-backlog', 0))
    .option('--backlog-grace <d>', 'SLO: unsent messages due less than this before the end are the pipeline\'s tail, not backlog (default: search.slo.backlog_grace, else --p99-ms, else 250ms)')
    .option('--no-backlog', 'SLO: do not check the backlog (the saturation flag; search.slo.no_backlog: false)')
    .option('--seed-from <search-id>', 'start from the capacity an earlier search found (e.g. the previous message size)')
    .option('--trial-warmup <d>', 'warm-up of each trial (default: search.trial_warmup, else the workload\'s)')
    .option('--trial-duration <d>', 'measured duration of each trial (default: search.trial_duration, else the workload\'s)')
    .option('--cooldown <d>', 'wait this long after a failing trial before the next: an overloaded broker carries less for a while (default: search.cooldown, 60s; 0: none)')
    .option('--set <key.path=value>', 'override a configuration key for every trial (repeatable)', collect, [])
    .option('--json', 'print search.json at the end')
    .action(async (exp: string, f: Flags, cmd: Command) => {
      const { searchCampaign } = await import('../../app/campaigns/search.js');
      const { fmtRate, verdictText } = await import('../../app/campaigns/arguments.js');
      const { bold, dim, green, red, yellow } = await import('../output.js');
      const { decimalBytes } = await import('../../core/bytes.js');
      if (f.strategy !== undefined && f.strategy !== 'knee' && f.strategy !== 'double-bisect') {
        const { UsageError } = await import('../../core/errors.js');
        throw new UsageError('usage.bad_option', `--strategy ${f.strategy}: expected knee or double-bisect`);
      }
      const ac = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        interrupts++;
        if (interrupts === 1) {
          process.stderr.write('\ninterrupted: stopping the current trial; the search record is kept (Ctrl-C again to leave at once)\n');
          ac.abort();
        } else process.exit(130);
      };
      process.on('SIGINT', onSigint);
      const slo = {
        ...(f.minRatio !== undefined ? { minRatio: f.minRatio } : {}),
        ...(f.p99Ms !== undefined ? { p99Ms: f.p99Ms } : {}),
        ...(f.maxBacklog !== undefined ? { maxBacklog: f.maxBacklog } : {}),
        ...(f.backlogGrace !== undefined ? { backlogGraceMs: await graceMs(f.backlogGrace) } : {}),
        ...(cmd.getOptionValueSource('backlog') === 'cli' ? { noBacklog: f.backlog } : {}),
      };
      try {
        const r = await searchCampaign({
          experiment: exp,
          set: f.set,
          ...(f.strategy ? { strategy: f.strategy as 'knee' | 'double-bisect' } : {}),
          ...(f.start !== undefined ? { start: f.start } : {}),
          ...(f.precision !== undefined ? { precision: f.precision } : {}),
          ...(f.minLoad !== undefined ? { minLoad: f.minLoad } : {}),
          ...(f.maxLoad !== undefined ? { maxLoad: f.maxLoad } : {}),
          ...(f.maxTrials !== undefined ? { maxTrials: f.maxTrials } : {}),
          ...(f.probeFactor !== undefined ? { probeFactor: f.probeFactor } : {}),
          ...(f.confirmWithin !== undefined ? { confirmWithin: f.confirmWithin } : {}),
          ...(f.ramp === false ? { ramp: false } : {}),
          ...(f.seedFrom ? { seedFrom: f.seedFrom } : {}),
          ...(f.trialWarmup ? { trialWarmup: f.trialWarmup } : {}),
          ...(f.trialDuration ? { trialDuration: f.trialDuration } : {}),
          ...(f.cooldown !== undefined ? { coolDown: f.cooldown } : {}),
          slo,
          signal: ac.signal,
          progress: (l) => process.stderr.write(dim(l) + '\n'),
          onTrial: (t, b, unit) => {
            const verdict = t.pass ? green('pass') : red('fail');
            const check = verdictText(t);
            process.stdout.write(
              `trial ${t.n}: target ${fmtRate(t.target)} ${unit}${t.retryOf !== undefined ? ` (again as trial ${t.retryOf})` : ''}, achieved ${fmtRate(t.achieved)}, p99 ${t.p99Ms === null || t.p99Ms === undefined ? '—' : `${t.p99Ms} ms`}, ${verdict}${t.reasons.length ? ` (${t.reasons.join('; ')})` : ''}${check ? ` — ${yellow(check)}` : ''}; bracket [${fmtRate(b.low)}, ${fmtRate(b.high)}]\n`,
            );
          },
        });
        const res = r.record.result!;
        const b = res.bracket;
        process.stdout.write(
          bold(`capacity ${fmtRate(res.capacity)} ${r.record.load.unit}`) +
            ` — bracket [${fmtRate(b.low)}, ${fmtRate(b.high)}]${b.low && b.high ? ` (${(((b.high - b.low) / b.low) * 100).toFixed(1)} %)` : ''}, ${res.trials} trials, ${Math.round(res.seconds)} s` +
            (res.withinPrecision ? '' : yellow(` — not within the precision (stopped: ${res.stopReason})`)) +
            (b.inconsistent ? yellow(` — ${b.inconsistent} trial(s) passed above a failure (noise)`) : '') +
            '\n',
        );
        if (res.pageCache?.absorbed) {
          const pc = res.pageCache;
          process.stdout.write(
            yellow(
              `note: trial ${pc.trial}, which passed at the capacity, sent about ${decimalBytes(pc.bytesPerBroker)} per broker in ${pc.seconds} s, under the brokers' background writeback threshold (about ${decimalBytes(pc.thresholdBytes)}) and their ${pc.expireSeconds} s dirty expiry: the page cache took it all. The capacity holds for trials this long; longer trials (search.trial_duration) show what the disks sustain.`,
            ) + '\n',
          );
        }
        process.stdout.write(dim(`search ${r.record.id}: ${r.path}`) + '\n');
        if (f.json) process.stdout.write(JSON.stringify(r.record, null, 2) + '\n');
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}

/** `--backlog-grace 300ms` → 300 (ms); a bad value is a usage error naming the flag. */
async function graceMs(v: string): Promise<number> {
  const { parseDuration } = await import('../../core/duration.js');
  const s = parseDuration(v);
  if (s === undefined || !(s >= 0)) {
    const { UsageError } = await import('../../core/errors.js');
    throw new UsageError('usage.bad_option', `--backlog-grace ${v}: expected a duration such as 300ms or 0.5s`);
  }
  return Math.round(s * 1000);
}
