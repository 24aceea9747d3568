import type { Command } from 'commander';
import { LOADGEN_FLAGS, flagDefault } from '../../app/loadgen-flags.js';

export function registerLoadgen(program: Command): void {
  const cmd = program
    .command('loadgen')
    .description(
      'run one Kafka load generator instance and write its JSON summary: from a plan file (--plan, the ingest hand-off) ' +
        'or from flags (direct use); open-loop on a schedule from a shared start time',
    )
    .option('--plan <plan.json>', 'the run\'s generator plan (src/loadgen/plan.ts); the flags below are then not allowed')
    .option('--summary <file>', 'write the JSON summary here (default: the plan entry\'s, else stdout)')
    .option('--quiet', 'no per-second progress on stderr')
    .option(
      '--serve',
      'with --plan: stay up after the run with the same connections and control port, and run each next plan handed over on POST /plan ' +
        '(the first plan\'s token; GET /run says how far it is) until stopped by SIGTERM/SIGINT',
    );
  for (const f of LOADGEN_FLAGS) {
    const d = flagDefault(f);
    cmd.option(f.flag, d === undefined ? f.help : `${f.help} (default: ${d})`);
  }
  cmd.action(async (raw: Record<string, unknown>) => {
    const { UsageError } = await import('../../core/errors.js');
    const { runLoadgenInstance } = await import('../../app/loadgen.js');
    const instance = raw.instance as string | undefined;
    if (raw.serve && raw.plan === undefined) throw new UsageError('loadgen.serve_usage', '--serve needs --plan <plan.json> (a plan whose generator waits for POST /start)');
    let plan;
    if (raw.plan !== undefined) {
      const extra = LOADGEN_FLAGS.filter((f) => f.key !== 'instance' && raw[f.key] !== undefined).map((f) => f.flag.split(' ')[0]);
      if (extra.length) throw new UsageError('loadgen.usage', `--plan takes its settings from the plan file; remove ${extra.join(', ')}`);
      plan = { file: raw.plan as string };
    } else {
      const { planFromFlags } = await import('../../app/loadgen-flags.js');
      for (const f of LOADGEN_FLAGS) if (f.required && raw[f.key] === undefined) throw new UsageError('loadgen.usage', `${f.flag.split(' ')[0]} is required (or give --plan <plan.json>)`);
      plan = { plan: planFromFlags(raw) };
    }
    const ac = new AbortController();
    const onSignal = (sig: NodeJS.Signals): void => {
      process.stderr.write(`loadgen: ${sig}, stopping\n`);
      ac.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const log = raw.quiet ? undefined : (l: string): void => void process.stderr.write(`[${instance ?? 'loadgen'}] ${l}\n`);
    await runLoadgenInstance({
      plan,
      ...(instance !== undefined && raw.plan !== undefined ? { instance } : {}),
      ...(raw.summary !== undefined ? { summary: raw.summary as string } : {}),
      io: { signal: ac.signal, ...(log ? { log } : {}) },
      ...(raw.serve ? { serve: true } : {}),
    });
  });
}
