import type { Command } from 'commander';
import { collect, intOption, numberOption } from '../options.js';

interface IOptions {
  set: string[];
  load?: number;
  message_size?: number;
  instances?: number;
  partitions?: number;
  history: boolean;
}

/** `entrypoint i <exp>`: the interactive shell (src/repl) with the experiment loaded. */
export function registerI(program: Command): void {
  program
    .command('i')
    .description('interactive shell with the experiment loaded: loadConfig, p, hosts, sh, query, energy, ... (help() inside)')
    .argument('<exp>', 'experiment name (experiments/<exp>.yaml) or path to a YAML file')
    .option('--load <msgs/s>', 'ingest.load: target rate, messages per second', numberOption('--load', { exclusiveMin: 0 }))
    .option('--message_size <bytes>', 'ingest.message_size', intOption('--message_size', 1, 10 * 1024 * 1024))
    .option('--instances <n>', 'ingest.instances: load generator instances', intOption('--instances', 1, 1024))
    .option('--partitions <n>', 'ingest.partitions', intOption('--partitions', 1, 10000))
    .option('--set <key.path=value>', 'override a configuration key (repeatable)', collect, [])
    .option('--no-history', 'do not read or write the history file')
    .action(async (exp: string, opts: IOptions) => {
      const overrides: Array<{ path: string; value: unknown; flag: string }> = [];
      for (const k of ['load', 'message_size', 'instances', 'partitions'] as const) {
        const v = opts[k];
        if (v !== undefined) overrides.push({ path: `ingest.${k}`, value: v, flag: `--${k}` });
      }
      const { runShell } = await import('../../repl/shell.js');
      process.exitCode = await runShell({ exp, load: { set: opts.set, overrides }, ...(opts.history ? {} : { historyFile: false }) });
    });
}
