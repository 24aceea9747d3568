import type { Command } from 'commander';
import { yellow } from '../output.js';
import { interruptSignal, progressLine } from './setup.js';

/** `entrypoint killjob`: the command on the CLI. */
export function registerKilljob(program: Command): void {
  configureKilljob(program.command('killjob'));
}

/**
 * killjob's arguments, options and action on a command: the CLI's subcommand, or the root of the
 * `killjob` bin (bin/killjob.ts), so both are the same code.
 */
export function configureKilljob(cmd: Command): Command {
  return cmd
    .description("destroy an experiment's services, give its hosts back and clear its state (idempotent)")
    .argument('<exp>', 'experiment name')
    .option('--destroy-timeout <s>', 'seconds destroying services may take before the hosts are released anyway', (v) => Number(v), 300)
    .option('--by-name', "also give back what the platform finds by the experiment's name, even if the state did not record it (Grid'5000: your live jobs named greenrace-<exp>)")
    .action(async (exp: string, flags: { destroyTimeout: number; byName?: boolean }) => {
      const { killjob } = await import('../../app/killjob.js');
      const intr = interruptSignal('killjob');
      try {
        const r = await killjob(exp, {
          progress: progressLine,
          signal: intr.signal,
          destroyTimeoutMs: Math.max(1, flags.destroyTimeout || 300) * 1000,
          ...(flags.byName ? { byName: true } : {}),
        });
        if (!r.didSomething) {
          process.stdout.write(`nothing to do: experiment ${r.experiment} is not set up\n`);
          return;
        }
        for (const w of r.warnings) process.stderr.write(yellow(`warning: ${w}`) + '\n');
        const what = [
          r.destroyed.length ? `destroyed ${r.destroyed.join(', ')}` : '',
          r.cluster ? `brought the ${r.cluster} Kubernetes cluster down` : '',
          r.platform ? `released ${r.hosts ? `${r.hosts} ` : ''}${r.platform} host${r.hosts === 1 ? '' : 's'}` : 'released',
          'cleared the state',
        ].filter(Boolean);
        process.stdout.write(`${r.experiment}: ${what.join(', ')} (${(r.elapsedMs / 1000).toFixed(1)} s)\n`);
      } finally {
        intr.dispose();
      }
    });
}
