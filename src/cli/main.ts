import { Command, CommanderError } from 'commander';
import { ExitCode } from '../core/errors.js';
import { printError } from './output.js';
import { registerCommands } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('entrypoint')
    .description('greenrace: energy and performance experiments on clusters (hosts, Ansible, Prometheus, energy)')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerCommands(program);
  return program;
}

/** Run the CLI; resolves to the exit code. Never throws. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return ExitCode.usage;
    }
    return printError(e);
  }
}
