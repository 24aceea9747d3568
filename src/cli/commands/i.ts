import type { Command } from 'commander';
import { FLAGS, flagOverrides } from '../../app/flags.js';
import { addFlagOptions, collect, flagValues } from '../options.js';

/** `entrypoint i <exp>`: the interactive shell (src/repl) with the experiment loaded. */
export function registerI(program: Command): void {
  const cmd = program
    .command('i')
    .description('interactive shell with the experiment loaded: loadConfig, p, hosts, sh, query, energy, ... (help() inside)')
    .argument('<exp>', 'experiment name (experiments/<exp>.yaml) or path to a YAML file');
  addFlagOptions(cmd, FLAGS.ingest)
    .option('--set <key.path=value>', 'override a configuration key (repeatable)', collect, [])
    .option('--no-history', 'do not read or write the history file')
    .action(async (exp: string, opts: Record<string, unknown> & { set: string[]; history: boolean }) => {
      const overrides = flagOverrides(FLAGS.ingest, flagValues(FLAGS.ingest, opts));
      const { runShell } = await import('../../repl/shell.js');
      process.exitCode = await runShell({ exp, load: { set: opts.set, overrides }, ...(opts.history ? {} : { historyFile: false }) });
    });
}
