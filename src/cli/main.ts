import { Command, CommanderError } from 'commander';
import { ExitCode } from '../core/errors.js';
import { printError } from './output.js';
import { registerCommands } from './commands/index.js';
import { configureKilljob } from './commands/killjob.js';

/** A root command with the CLI's shared behaviour: version, usage errors as exit 2, no stack. */
function rootCommand(name: string): Command {
  return new Command(name)
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

export function buildProgram(): Command {
  const program = rootCommand('entrypoint').description('greenrace: energy and performance experiments on clusters (hosts, Ansible, Prometheus, energy)');
  registerCommands(program);
  return program;
}

/** The `killjob` bin: `entrypoint killjob` as a program of its own (same options, same action). */
export function buildKilljobProgram(): Command {
  return configureKilljob(rootCommand('killjob'));
}

/** Run the CLI (or another front built on it, e.g. the killjob bin); resolves to the exit code. Never throws. */
export async function main(argv: string[], build: () => Command = buildProgram): Promise<number> {
  const program = build();
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
