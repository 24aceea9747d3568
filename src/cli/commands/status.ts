import type { Command } from 'commander';
import { bold, dim, green, red, table, yellow } from '../output.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show an experiment's hosts (role, address, reachability, CPU, memory, kernel), services and endpoints")
    .argument('<exp>', 'experiment name')
    .option('--json', 'print JSON')
    .option('--no-check', 'do not probe the hosts over SSH')
    .action(async (exp: string, flags: { json?: boolean; check: boolean }) => {
      const { status } = await import('../../app/status.js');
      const r = await status(exp, { check: flags.check });
      const healthy =
        r.phase === 'ready' && r.hosts.every((h) => h.reachable !== false) && !r.sections.some((s) => s.problem);
      if (flags.json) {
        const { sections, ...rest } = r;
        process.stdout.write(JSON.stringify({ ...rest, sections: Object.fromEntries(sections.map((s) => [s.title, s.data])) }, null, 2) + '\n');
      } else {
        process.stdout.write(renderStatus(r) + '\n');
      }
      if (!healthy) process.exitCode = 1;
    });
}

type StatusReport = import('../../app/status.js').StatusReport;

export function renderStatus(r: StatusReport): string {
  const out: string[] = [];
  const phase =
    r.phase === 'ready'
      ? green('ready')
      : r.phase === 'failed' || r.phase === 'interrupted'
        ? red(`${r.phase} during ${r.failedPhase ?? '?'}`)
        : yellow(r.phase);
  out.push(`${bold(r.experiment)}: ${phase} on the ${r.platform} platform${r.setupSeconds !== undefined ? dim(` (setup took ${r.setupSeconds} s${r.setupFinishedAt ? `, ${r.setupFinishedAt}` : ''})`) : ''}`);
  if (r.setupSkipped) out.push(dim(`  setup again at ${r.setupSkipped.at} (${r.setupSkipped.seconds} s): setup.yml skipped, nothing had changed`));
  if (r.lastError && r.phase !== 'ready') out.push(`  last error [${r.lastError.code}]: ${r.lastError.message.split('\n')[0]}`);
  if (r.phase !== 'ready') out.push(dim(`  run \`entrypoint setup ${r.experiment}\` to carry on or \`entrypoint killjob ${r.experiment}\` to clean up`));
  out.push('', bold('hosts'));
  if (r.hosts.length === 0) out.push('  (none yet)');
  else {
    const reach = (h: StatusReport['hosts'][number]): string =>
      h.reachable === undefined ? dim('-') : h.reachable ? green('yes') : red(`no${h.detail ? ` (${h.detail})` : ''}`);
    out.push(
      table(
        r.hosts.map((h) => [
          h.roles.join(','),
          h.name,
          h.address,
          reach(h),
          h.metadata?.hostname ?? '',
          h.metadata ? `${h.metadata.cpu_model}` : '',
          h.metadata ? `${h.metadata.cpu_cores}c/${h.metadata.cpu_threads}t` : '',
          h.metadata ? `${(h.metadata.memory_mb / 1024).toFixed(1)} GiB` : '',
          h.metadata?.kernel ?? '',
        ]),
        ['role', 'host', 'address', 'reachable', 'hostname', 'cpu', 'cores', 'memory', 'kernel'],
      ),
    );
  }
  out.push('', bold('services'));
  if (r.services.length === 0) out.push('  (none)');
  for (const s of r.services) {
    const ports = Object.entries(s.ports).map(([k, v]) => `${k} ${v}`).join(', ');
    // On a cluster the group is the workload the API reports ("DaemonSet on 4 nodes, 4/4 ready", "pod on control-1, ready").
    if (s.k8s || s.group.startsWith('the cluster')) out.push(`  ${s.name}: ${s.k8s ? s.group : `on ${s.group}`} (${ports})`);
    else out.push(`  ${s.name} on ${s.group}: ${s.hosts.join(', ') || 'no hosts'} (${ports})`);
  }
  if (Object.keys(r.endpoints).length) {
    out.push('', bold('endpoints'));
    for (const [k, v] of Object.entries(r.endpoints)) out.push(`  ${k}: ${v}`);
  }
  for (const s of r.sections) {
    out.push('', bold(s.title), ...s.lines.map((l) => `  ${l}`));
  }
  for (const w of r.warnings) out.push(yellow(`warning: ${w}`));
  out.push('', dim(`state: ${r.stateDir}`));
  return out.join('\n');
}
