/**
 * PCP during a run, as in the Arcaflow workflows: on each involved host a pmcd (pmcd and linux
 * agents only, its own socket, port and PCP_RUN_DIR under the host's data dir) and a pmlogger
 * writing an archive there. Both are bounded (`timeout` and pmlogger -T) so they end even if
 * greenrace dies. After the run: stop, report with pmrep on the host (Debian's /usr/bin/python3,
 * never a python3 from PATH), copy the archive and reports to `<run dir>/<host>/pcp/`, summarise.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../../core/errors.js';
import { shq } from '../../core/shell.js';
import type { WorkHost as NetHost } from '../../core/types.js';
import type { Executor, Started } from '../../runtimes/executor.js';
import { PCP_COUNTER_METRICS, PCP_PMCD_BIN, PCP_PMCD_PORT, PCP_PMNS_ROOT, PCP_RATE_METRICS, loggerConf, pmcdConf } from './config.js';
import { parsePmrepCsv, summarisePcp, type PcpSummary } from './summary.js';

export interface PcpRecording {
  host: NetHost;
  dir: string;
  archive: string;
  interval: number;
  pmcd: Started;
  pmlogger?: Started;
}

export const pcpDir = (host: NetHost, runId: string): string => `${host.dataDir.replace(/\/+$/, '')}/pcp/${runId}`;

/** supported?: the PCP programs and the PMNS on each host; returns "program on host" for what is missing. */
export async function missingPcp(ex: Executor, hosts: NetHost[], signal?: AbortSignal): Promise<string[]> {
  const script = [
    `[ -x ${PCP_PMCD_BIN} ] || echo pmcd`,
    `[ -f ${PCP_PMNS_ROOT} ] || echo pmns`,
    `for p in pmlogger pmrep pmdumplog; do command -v $p >/dev/null || echo $p; done`,
    `[ -x /usr/bin/python3 ] || echo /usr/bin/python3`,
  ].join('\n');
  const out: string[] = [];
  await Promise.all(
    hosts.map(async (h) => {
      const r = await ex.run(h, script, { timeoutMs: 20_000, ...(signal ? { signal } : {}) });
      for (const p of r.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) out.push(`${p === 'pmns' ? `the PMNS (${PCP_PMNS_ROOT})` : p} on ${h.name}`);
    }),
  );
  return out.sort();
}

/** Longest Unix socket path that binds everywhere (sun_path is 108 bytes on Linux, 104 on BSDs). */
const UNIX_SOCKET_MAX = 103;

/**
 * How pmlogger reaches its pmcd: the run folder's Unix socket when its path fits in a socket
 * address, else pmcd's TCP port on the host's address (pmcd listens on both; a long data folder
 * plus the run's UUID, as on Kubernetes nodes, makes the socket path too long: pmcd then fails to
 * create it and pmlogger cannot connect).
 */
export function pmcdHostSpec(address: string, dir: string): string {
  const socket = `${dir}/run/pmcd.socket`;
  return Buffer.byteLength(socket) <= UNIX_SOCKET_MAX ? `unix:${socket}` : `${address}:${PCP_PMCD_PORT}`;
}

/**
 * Start pmcd and pmlogger on a host. `maxSeconds` bounds both; `interval` is pmlogger's sampling
 * interval in seconds.
 */
export async function startPcp(
  ex: Executor,
  host: NetHost,
  runId: string,
  opts: { interval: number; maxSeconds: number; signal?: AbortSignal },
): Promise<PcpRecording> {
  const dir = pcpDir(host, runId);
  const max = Math.ceil(opts.maxSeconds);
  await ex.put(host, `${dir}/pmcd.conf`, pmcdConf());
  await ex.put(host, `${dir}/pmlogger.conf`, loggerConf(opts.interval));
  const env = `env PCP_RUN_DIR=${shq(dir + '/run')} PCP_TMP_DIR=${shq(dir + '/tmp')}`;
  const sig = opts.signal ? { signal: opts.signal } : {};
  const mk = await ex.run(host, `mkdir -p ${shq(dir + '/run')} ${shq(dir + '/tmp/pmlogger')} ${shq(dir + '/archive')}`, { timeoutMs: 20_000, ...sig });
  if (mk.code !== 0) throw new RunError('net.pcp_start', `cannot create ${dir} on ${host.name}: ${mk.stderr.trim()}`);
  const pmcd = await ex.start({
    host,
    name: 'pmcd',
    command: `exec ${env} timeout -k 5 ${max} ${PCP_PMCD_BIN} -f -U root -l ${shq(dir + '/pmcd.log')} -c ${shq(dir + '/pmcd.conf')} -i ${shq(host.address)} -p ${PCP_PMCD_PORT} -s ${shq(dir + '/run/pmcd.socket')}`,
    dir,
    port: PCP_PMCD_PORT,
    waitSeconds: 20,
    ...sig,
  });
  const rec: PcpRecording = { host, dir, archive: `${dir}/archive/${host.name}`, interval: opts.interval, pmcd };
  try {
    rec.pmlogger = await ex.start({
      host,
      name: 'pmlogger',
      command: `exec ${env} timeout -k 5 ${max} pmlogger -h ${shq(pmcdHostSpec(host.address, dir))} -H ${shq(host.name)} -l ${shq(dir + '/pmlogger.log')} -c ${shq(dir + '/pmlogger.conf')} -t ${opts.interval} -T ${max}sec ${shq(rec.archive)}`,
      dir,
      ...sig,
    });
    // The archive exists once pmlogger has connected and written its label.
    // Up to 30 s: on a loaded machine a pmlogger in a fresh pod can take seconds to connect.
    const w = await ex.run(host, `for _ in $(seq 1 300); do [ -s ${shq(rec.archive + '.meta')} ] && exit 0; sleep 0.1; done; tail -n 5 ${shq(dir + '/pmlogger.log')} >&2; exit 1`, { timeoutMs: 60_000, ...sig });
    if (w.code !== 0) throw new RunError('net.pcp_start', `pmlogger on ${host.name} wrote no archive`, { details: w.stderr.trim().split('\n') });
  } catch (e) {
    await stopPcp(ex, rec);
    throw e;
  }
  return rec;
}

/** Stop pmlogger (it closes the archive on SIGTERM), then pmcd. Safe to call twice. */
export async function stopPcp(ex: Executor, rec: PcpRecording): Promise<void> {
  if (rec.pmlogger) await ex.stop(rec.pmlogger).catch(() => undefined);
  await ex.stop(rec.pmcd).catch(() => undefined);
}

export interface PcpCollected {
  host: string;
  summary: PcpSummary;
  /** Paths relative to the run folder. */
  files: string[];
}

/**
 * Report the archive with pmrep on the host, copy archive + reports + logs to
 * `<runDir>/<host>/pcp/`, summarise, and remove the host's copy.
 */
export async function collectPcp(ex: Executor, rec: PcpRecording, runDir: string, signal?: AbortSignal): Promise<PcpCollected> {
  const { host, dir } = rec;
  // Times with microseconds (`%s.%f`): whole seconds would put two samples of a sub-second interval
  // in the same second and halve their rate. Rates are interpolated every interval; the byte counters
  // are the archive's own samples (`-u`, no interpolation): an interpolated last point lies up to one
  // interval before the last sample and loses that interval's bytes.
  const pmrep = `/usr/bin/python3 /usr/bin/pmrep -a ${shq(rec.archive)} -o csv -f %s.%f`;
  const r = await ex.run(
    host,
    [
      `cd ${shq(dir)} || exit 1`,
      `${pmrep} -t ${rec.interval} ${PCP_RATE_METRICS.join(' ')} > rates.csv 2> pmrep.err || { cat pmrep.err >&2; exit 1; }`,
      `${pmrep} -u -r ${PCP_COUNTER_METRICS.join(' ')} > counters.csv 2>> pmrep.err || { cat pmrep.err >&2; exit 1; }`,
      `ls archive`,
    ].join('\n'),
    { timeoutMs: 120_000, ...(signal ? { signal } : {}) },
  );
  if (r.code !== 0) throw new RunError('net.pcp_report', `pmrep could not read the PCP archive on ${host.name}`, { details: r.stderr.trim().split('\n').slice(-10) });
  const local = join(runDir, host.name, 'pcp');
  mkdirSync(local, { recursive: true });
  const archiveFiles = r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  const files: string[] = [];
  for (const f of [...archiveFiles.map((a) => `archive/${a}`), 'rates.csv', 'counters.csv', 'pmcd.log', 'pmlogger.log']) {
    const name = f.replace(/^archive\//, '');
    await ex.fetch(host, `${dir}/${f}`, join(local, name), signal ? { signal } : {});
    files.push(`${host.name}/pcp/${name}`);
  }
  const where = `PCP of ${host.name}`;
  const summary = summarisePcp(parsePmrepCsv(readFileSync(join(local, 'rates.csv'), 'utf8'), where), parsePmrepCsv(readFileSync(join(local, 'counters.csv'), 'utf8'), where));
  await ex.run(host, `rm -rf ${shq(dir)}`, { timeoutMs: 20_000 }).catch(() => undefined);
  return { host: host.name, summary, files };
}
