import type { Command } from 'commander';
import { collect, intOption, numberOption } from '../options.js';

interface Flags {
  load?: number;
  message_size?: number;
  instances?: number;
  partitions?: number;
  duration?: string;
  warmup?: string;
  broker?: string;
  driver?: string;
  acks?: string;
  set: string[];
  verbose?: boolean;
  json?: boolean;
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('run one ingest experiment: load generators on the workers at a target rate against the brokers; record throughput, latency and energy')
    .argument('<exp>', 'experiment name (set up with `entrypoint setup <exp>`)')
    .option('--load <msg/s>', 'target rate, messages per second, summed over all instances', numberOption('--load', { exclusiveMin: 0, max: 100_000_000 }))
    .option('--message_size <bytes>', 'message payload size in bytes', intOption('--message_size', 1, 10 * 1024 * 1024))
    .option('--instances <n>', 'load generator instances, spread over the worker hosts', intOption('--instances', 1, 1024))
    .option('--partitions <n>', 'partitions of the topic', intOption('--partitions', 1, 100_000))
    .option('--duration <d>', 'measured duration (e.g. 30, 30s, 5m)')
    .option('--warmup <d>', 'warm-up before the measurement, excluded from it')
    .option('--broker <kafka|redpanda>', 'broker the run targets (must be deployed)')
    .option('--driver <native|perf-test>', 'native generator or Kafka\'s kafka-producer-perf-test')
    .option('--acks <0|1|all>', 'producer acknowledgements')
    .option('--set <key.path=value>', 'override a configuration key (repeatable)', collect, [])
    .option('--verbose', 'show every Ansible task')
    .option('--json', 'print the run record as JSON at the end')
    .action(async (exp: string, f: Flags) => {
      const { runIngest, prepareIngest } = await import('../../app/ingest.js');
      const { table, bold, dim } = await import('../output.js');
      const { describeLatency } = await import('../../app/loadgen.js');
      const flags = {
        ...(f.load !== undefined ? { load: f.load } : {}),
        ...(f.message_size !== undefined ? { message_size: f.message_size } : {}),
        ...(f.instances !== undefined ? { instances: f.instances } : {}),
        ...(f.partitions !== undefined ? { partitions: f.partitions } : {}),
        ...(f.duration !== undefined ? { duration: f.duration } : {}),
        ...(f.warmup !== undefined ? { warmup: f.warmup } : {}),
        ...(f.broker !== undefined ? { broker: f.broker } : {}),
        ...(f.driver !== undefined ? { driver: f.driver } : {}),
        ...(f.acks !== undefined ? { acks: f.acks } : {}),
      };
      // Validate before anything runs (also done inside runIngest; this fails fast with no lock taken).
      prepareIngest({ experiment: exp, flags, set: f.set });
      const ac = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        interrupts++;
        if (interrupts === 1) {
          process.stderr.write('\ninterrupted: stopping the generators and deleting the topic (Ctrl-C again to leave at once)\n');
          ac.abort();
        } else process.exit(130);
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      const start = Date.now();
      const progress = (l: string): void => void process.stderr.write(`${dim(`[${Math.round((Date.now() - start) / 1000)}s]`)} ${l}\n`);
      let outcome;
      try {
        outcome = await runIngest({ experiment: exp, flags, set: f.set, progress, signal: ac.signal, ...(f.verbose ? { verbose: true } : {}) });
      } catch (e) {
        const o = (e as { outcome?: Awaited<ReturnType<typeof runIngest>> }).outcome;
        if (o) process.stdout.write(render(o) + '\n');
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
      if (f.json) process.stdout.write(JSON.stringify(outcome.record, null, 2) + '\n');
      else process.stdout.write(render(outcome) + '\n');

      function render(o: Awaited<ReturnType<typeof runIngest>>): string {
        const r = (o.record.results ?? {}) as Record<string, unknown>;
        const lat = r.latency_ms as { p50: number; p95: number; p99: number; p999: number; max: number } | undefined;
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
        const fmt = (v: unknown, unit = ''): string => (v === null || v === undefined ? '—' : `${typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : String(v)}${unit}`);
        const rows: string[][] = [
          ['status', o.record.status + (o.record.error ? ` (${o.record.error.code}: ${o.record.error.message})` : '')],
          ['target rate', fmt(r.target_rate, ' msg/s')],
          ['achieved rate', `${fmt(r.achieved_rate, ' msg/s')}${r.achieved_ratio != null ? ` (${((r.achieved_ratio as number) * 100).toFixed(1)} %)` : ''}`],
          ['throughput', fmt(r.mb_per_s, ' MB/s')],
          ['acked / failed / unsent / unacked', `${fmt(r.messages_acked)} / ${fmt(r.messages_failed)} / ${fmt(r.messages_unsent)} / ${fmt(r.messages_unacked)}`],
          ['latency p50 / p95 / p99', lat ? `${b}${fmt(lat.p50)} / ${b}${fmt(lat.p95)} / ${b}${fmt(lat.p99)} ms` : '—'],
          ['latency p99.9 / max', lat ? `${b}${fmt(lat.p999)} / ${b}${fmt(lat.max)} ms` : '—'],
          ['latency measured', latText],
          ['energy', `${fmt(r.energy_j, ' J')}${Array.isArray(r.energy_sources) && r.energy_sources.length ? ` (${(r.energy_sources as string[]).join(', ')})` : ''}`],
          ['msg/J', fmt(r.msg_per_j)],
          ['J/MB', fmt(r.j_per_mb)],
          ['window', o.record.window ? `${new Date(o.record.window.start * 1000).toISOString()} + ${fmt(r.window_seconds, ' s')}` : '—'],
          ['record', o.recordPath],
        ];
        return `${bold(`ingest ${o.record.experiment} run ${o.record.id}`)}\n${table(rows)}`;
      }
    });
}
