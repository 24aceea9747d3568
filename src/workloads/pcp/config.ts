/**
 * What a run's PCP recording is: a pmcd with only the pmcd and linux agents (in-process DSOs, so
 * nothing else starts), and a pmlogger configuration for CPU, memory and per-interface network.
 */

/** pmcd's port for runs (the distro's pmcd, where one runs, keeps 44321). */
export const PCP_PMCD_PORT = 44322;
export const PCP_PMCD_BIN = '/usr/lib/pcp/bin/pmcd';
export const PCP_PMNS_ROOT = '/var/lib/pcp/pmns/root';

/** Logged metrics. CPU utilisation is derived on reading (kernel.cpu.util.* from the kernel.all.cpu counters). */
export const PCP_LOGGED_METRICS = [
  'hinv.ncpu',
  'kernel.all.cpu.user',
  'kernel.all.cpu.nice',
  'kernel.all.cpu.sys',
  'kernel.all.cpu.idle',
  'kernel.all.cpu.wait.total',
  'kernel.all.cpu.intr',
  'kernel.all.cpu.steal',
  'kernel.all.load',
  'mem.physmem',
  'mem.util.used',
  'mem.util.available',
  'network.interface.in.bytes',
  'network.interface.out.bytes',
  'network.interface.in.packets',
  'network.interface.out.packets',
] as const;

/** Columns of the rates report (pmrep converts counters to rates; kernel.cpu.util.* are % of all CPUs). */
export const PCP_RATE_METRICS = ['kernel.cpu.util.user', 'kernel.cpu.util.sys', 'kernel.cpu.util.idle', 'mem.util.used', 'mem.physmem'] as const;
/** Columns of the raw counters report (exact byte totals per interface). */
export const PCP_COUNTER_METRICS = ['network.interface.in.bytes', 'network.interface.out.bytes'] as const;

export function pmcdConf(): string {
  return [
    '# greenrace: one pmcd per host for the length of a run; agents in-process',
    '# Name\tId\tIPC\tIPC Params\tFile/Cmd',
    'pmcd\t2\tdso\tpmcd_init\t/var/lib/pcp/pmdas/pmcd/pmda_pmcd.so',
    'linux\t60\tdso\tlinux_init\t/var/lib/pcp/pmdas/linux/pmda_linux.so',
    '',
    '[access]',
    'disallow ".*" : store;',
    'allow ".*" : fetch;',
    '',
  ].join('\n');
}

/** pmlogger configuration: every metric at `intervalSeconds`. */
export function loggerConf(intervalSeconds: number): string {
  const every = intervalSeconds >= 1 && Number.isInteger(intervalSeconds) ? `${intervalSeconds} sec` : `${Math.round(intervalSeconds * 1000)} msec`;
  return `log mandatory on every ${every} {\n${PCP_LOGGED_METRICS.map((m) => `  ${m}`).join('\n')}\n}\n`;
}
