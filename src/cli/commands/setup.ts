import { Option, type Command } from 'commander';
import { PLATFORM_KINDS, type PlatformKind } from '../../app/platforms.js';
import { collect, intOption } from '../options.js';
import { bold, dim, table, yellow } from '../output.js';

export interface SetupFlags {
  workers?: number;
  platform?: PlatformKind;
  inventory?: string;
  cluster?: string;
  set: string[];
  dryRun?: boolean;
  verbose?: boolean;
  connectTimeout?: number;
  timings?: boolean;
  converge?: boolean;
}

/**
 * An AbortSignal for Ctrl-C / SIGTERM: the first one asks the work to stop cleanly (ansible gets
 * SIGINT, state records the phase); a second one quits at once with 130.
 */
export function interruptSignal(what: string): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!ac.signal.aborted) {
      process.stderr.write(`\n${dim(`${sig}: stopping ${what} cleanly (again to quit at once)…`)}\n`);
      ac.abort();
      return;
    }
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export const progressLine = (line: string): void => {
  process.stderr.write(line + '\n');
};

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('get the hosts of an experiment and prepare them with Ansible (SSH, facts, metadata, services)')
    .argument('<exp>', 'experiment name (experiments/<exp>.yaml) or path to a YAML file')
    .option('--workers <n>', 'number of worker hosts (roles.worker, at least 1)', intOption('--workers', 1, 1000))
    .addOption(new Option('--platform <kind>', 'where the hosts come from (platform.kind)').choices(PLATFORM_KINDS))
    .option('--inventory <file>', 'Ansible YAML inventory of existing hosts (platform.static.inventory)')
    .option('--cluster <name>', "Grid'5000 cluster for every role (platform.g5k.cluster; implies --platform g5k)")
    .option('--set <key.path=value>', 'override a configuration key (repeatable)', collect, [])
    .option('--dry-run', 'print the platform plan, the inventory and the services; touch nothing')
    .option('--connect-timeout <s>', 'seconds to wait for SSH on each host', intOption('--connect-timeout', 1, 3600))
    .option('-v, --verbose', "print every host's result of every task")
    .option('--timings', 'print the slowest Ansible tasks of the run (the setup log always ends with them)')
    .option('--converge', 'run setup.yml even when nothing changed since the last setup and every service answers')
    .action(async (exp: string, flags: SetupFlags) => {
      const app = await import('../../app/setup.js');
      // --cluster is platform.g5k.cluster, applied after the file and --set, and selects g5k.
      if (flags.cluster !== undefined && flags.platform !== undefined && flags.platform !== 'g5k') {
        const { UsageError } = await import('../../core/errors.js');
        throw new UsageError('usage.cluster_platform', `--cluster is for the g5k platform, not --platform ${flags.platform}`);
      }
      if (flags.cluster !== undefined) flags.platform = 'g5k';
      const opts = {
        exp,
        set: flags.cluster !== undefined ? [...flags.set, `platform.g5k.cluster=${JSON.stringify(flags.cluster)}`] : flags.set,
        ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
        ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
        ...(flags.inventory !== undefined ? { inventory: flags.inventory } : {}),
        ...(flags.connectTimeout !== undefined ? { connectTimeout: flags.connectTimeout } : {}),
        ...(flags.verbose ? { verbose: true } : {}),
        ...(flags.converge ? { converge: true } : {}),
      };
      if (flags.dryRun) {
        const d = await app.setupDryRun(opts);
        const out: string[] = [];
        out.push(bold(`# setup ${d.experiment.name} --dry-run (${d.files.join(' <- ')})`) + (d.alreadySetUp ? '  [already set up: setup would reattach]' : ''));
        out.push('', bold('## platform'), ...d.platformLines);
        out.push('', bold(`## inventory (${d.stateDir}/inventory.yaml)`), d.inventoryYaml.trimEnd());
        out.push('', bold('## services'));
        if (d.services.services.length === 0) out.push('(none)');
        for (const s of d.services.services) {
          const ports = Object.entries(d.services.ports[s] ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
          out.push(`${s}: on ${d.services.hostPatterns[s]} (${(d.services.hosts[s] ?? []).join(', ') || 'no hosts'}); ports ${ports}`);
        }
        if (Object.keys(d.services.endpoints).length) {
          out.push('', bold('## endpoints (after setup)'));
          for (const [k, v] of Object.entries(d.services.endpoints)) out.push(`${k}: ${v}`);
        }
        out.push('', dim('nothing was created; run without --dry-run to set up'));
        process.stdout.write(out.join('\n') + '\n');
        return;
      }
      const intr = interruptSignal('setup');
      try {
        const r = await app.setup({ ...opts, progress: progressLine, signal: intr.signal });
        process.stdout.write(setupSummary(r) + '\n');
        if (flags.timings) process.stdout.write(app.setupTimingLines(r).join('\n') + '\n');
      } finally {
        intr.dispose();
      }
    });
}

type SetupOutcome = import('../../app/setup.js').SetupOutcome;

export function setupSummary(r: SetupOutcome): string {
  const out: string[] = [];
  const secs = (r.elapsedMs / 1000).toFixed(1);
  out.push(bold(`${r.experiment.name} is set up`) + ` in ${secs} s on the ${r.handle.kind} platform${r.reattached ? ' (same hosts as before)' : ''}`);
  const rows = r.handle.hosts.map((h) => {
    const m = r.metadata[h.name];
    return [
      h.roles.join(','),
      h.name,
      h.address,
      m?.hostname ?? '?',
      m ? `${m.cpu_cores} cores, ${Math.round(m.memory_mb / 1024)} GiB` : '',
      m?.os ?? '',
    ];
  });
  out.push(table(rows, ['role', 'host', 'address', 'hostname', 'cpu/mem', 'os']));
  if (r.removedServices.length) out.push(`removed: ${r.removedServices.join(', ')}`);
  out.push(`services: ${r.services.services.length ? r.services.services.map((s) => `${s} (${r.services.hostPatterns[s]})`).join(', ') : 'none'}`);
  for (const [k, v] of Object.entries(r.endpoints)) out.push(`  ${k}: ${v}`);
  if (r.inPlace) out.push(r.inPlace);
  if (r.targets) out.push(...r.targets.summary.map((l, i) => (r.targets!.allUp ? l : i === r.targets!.summary.length - 1 ? dim(l) : yellow(l))));
  const warned = r.playbook?.ignored.length ?? 0;
  if (warned) out.push(`${warned} task failure${warned > 1 ? 's were' : ' was'} ignored by the roles (see ${r.playbook?.logFile})`);
  out.push(dim(`state: ${r.stateDir}   next: entrypoint status ${r.experiment.name}   clean up: entrypoint killjob ${r.experiment.name}`));
  return out.join('\n');
}
