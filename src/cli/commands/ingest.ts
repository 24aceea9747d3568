import type { Command } from 'commander';
import { FLAGS } from '../../app/flags.js';
import { addFlagOptions, collect, flagValues } from '../options.js';
import { interruptSignal } from './setup.js';

export function registerIngest(program: Command): void {
  const cmd = program
    .command('ingest')
    .description('run one ingest experiment: load generators on the workers at a target rate against the brokers; record throughput, latency and energy')
    .argument('<exp>', 'experiment name (set up with `entrypoint setup <exp>`)');
  addFlagOptions(cmd, FLAGS.ingest)
    .option('--set <key.path=value>', 'override a configuration key (repeatable)', collect, [])
    .option('--json', 'print the run record as JSON at the end')
    .action(async (exp: string, f: Record<string, unknown> & { set: string[]; json?: boolean }) => {
      const { runIngest } = await import('../../app/ingest.js');
      const { table, bold, dim } = await import('../output.js');
      const { decimalBytes } = await import('../../core/bytes.js');
      const { describeLatency } = await import('../../app/loadgen.js');
      const { energySummaryRows } = await import('../../app/energy-summary.js');
      const flags = flagValues(FLAGS.ingest, f);
      const intr = interruptSignal('the run: generators stopped, topic deleted, record saved');
      const start = Date.now();
      const progress = (l: string): void => void process.stderr.write(`${dim(`[${Math.round((Date.now() - start) / 1000)}s]`)} ${l}\n`);
      let outcome;
      try {
        outcome = await runIngest({ experiment: exp, flags, set: f.set, progress, signal: intr.signal });
      } catch (e) {
        const o = (e as { outcome?: Awaited<ReturnType<typeof runIngest>> }).outcome;
        if (o) process.stdout.write(render(o) + '\n');
        throw e;
      } finally {
        intr.dispose();
      }
      if (f.json) process.stdout.write(JSON.stringify(outcome.record, null, 2) + '\n');
      else process.stdout.write(render(outcome) + '\n');

      /** Whether the run's writes stayed in the brokers' page cache (results.page_cache, ingest/pagecache.ts). */
      function pageCacheText(v: unknown): string {
        const pc = v as { absorbed?: boolean; bytesPerBroker?: number; thresholdBytes?: number; seconds?: number; expireSeconds?: number } | undefined;
        if (!pc || typeof pc.bytesPerBroker !== 'number' || typeof pc.thresholdBytes !== 'number') return '— (ingest.sync_brokers off)';
        const what = `${decimalBytes(pc.bytesPerBroker)} per broker in ${pc.seconds} s; writeback at about ${decimalBytes(pc.thresholdBytes)} or after ${pc.expireSeconds} s`;
        return pc.absorbed ? `absorbed: the disks were not waited for (${what})` : `exceeded: the disks took part (${what})`;
      }

      function render(o: Awaited<ReturnType<typeof runIngest>>): string {
        const r = (o.record.results ?? {}) as Record<string, unknown>;
        const lat = r.latency_ms as { p50: number | null; p95: number | null; p99: number | null; p999: number | null; max: number } | undefined;
        const basis = r.latency_basis as Parameters<typeof describeLatency>[0]['latency'] | undefined;
        const { label: latText, bound: b } =
          lat && basis
            ? describeLatency({
                latency: basis,
                saturated: r.saturated === true,
                counts: { unsent: Number(r.messages_unsent ?? 0), unacked: Number(r.messages_unacked ?? 0) },
                latencyMs: { censored: Number((lat as { censored?: number }).censored ?? 0) },
              })
            : { label: '—', bound: '' };
        const q = (v: number | null): string => (v === null ? '—' : `${b}${fmt(v)}`);
        const fmt = (v: unknown, unit = ''): string => (v === null || v === undefined ? '—' : `${typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : String(v)}${unit}`);
        const ph = o.record.phases;
        const rows: string[][] = [
          ['status', o.record.status + (o.record.error ? ` (${o.record.error.code}: ${o.record.error.message})` : '')],
          ['target rate', fmt(r.target_rate, ' msg/s')],
          ['achieved rate', `${fmt(r.achieved_rate, ' msg/s')}${r.achieved_ratio != null ? ` (${((r.achieved_ratio as number) * 100).toFixed(1)} %)` : ''}`],
          ['throughput', fmt(r.mb_per_s, ' MB/s')],
          ['acked / failed / unsent / unacked', `${fmt(r.messages_acked)} / ${fmt(r.messages_failed)} / ${fmt(r.messages_unsent)} / ${fmt(r.messages_unacked)}`],
          ['latency p50 / p95 / p99', lat ? `${q(lat.p50)} / ${q(lat.p95)} / ${q(lat.p99)} ms` : '—'],
          ['latency p99.9 / max', lat ? `${q(lat.p999)} / ${q(lat.max)} ms` : '—'],
          ['latency measured', latText],
          ...energySummaryRows(o.record.energy, {
            experiment: o.record.experiment,
            ...(typeof r.window_seconds === 'number' ? { seconds: r.window_seconds } : {}),
            ...(typeof r.messages_acked === 'number' ? { messages: r.messages_acked } : {}),
          }),
          ['J/MB', fmt(r.j_per_mb)],
          ['brokers\' page cache', pageCacheText(r.page_cache)],
          ['window', o.record.window ? `${new Date(o.record.window.start * 1000).toISOString()} + ${fmt(r.window_seconds, ' s')}` : '—'],
          ['time: prepare / warm-up / measure / collect', ph ? `${ph.prepare_s.toFixed(1)} / ${ph.warmup_s.toFixed(1)} / ${ph.measure_s.toFixed(1)} / ${ph.collect_s.toFixed(1)} s (overhead ${ph.overhead_s.toFixed(1)} s of ${ph.total_s.toFixed(1)} s)` : '—'],
          ['record', o.recordPath],
        ];
        return `${bold(`ingest ${o.record.experiment} run ${o.record.id}`)}\n${table(rows)}`;
      }
    });
}
