import { GreenraceError } from '../../core/errors.js';
import type { ExecResult, FetchResult } from '../../app/remote.js';
import { argError, type Session } from '../session.js';
import { describe } from '../overrides.js';
import { selectHosts } from '../cluster.js';
import { table, withView, indent } from '../display.js';
import type { HelperDef } from './types.js';

export const hosts: HelperDef = {
  name: 'hosts',
  kind: 'function',
  signature: 'hosts(role?)',
  summary: 'the hosts of the cluster, or of one role / host name',
  details: [
    'role: control, broker, worker, all (default) or a host name.',
    'Returns an array of {name, address, port, user, roles}.',
  ],
  examples: ["hosts('worker')", 'hosts().map(h => h.address)'],
  make: (s: Session) =>
    function hosts(role: unknown = 'all') {
      const hs = selectHosts(s.exp, role, 'hosts(role?)').map((h) => ({ name: h.name, address: h.address, port: h.port, user: h.user, roles: [...h.roles] }));
      return withView(hs, () => table(hs.map((h) => [h.name, h.address, h.roles.join(',')]), ['host', 'address', 'roles']));
    },
};

function renderExec(rs: ExecResult[]): string {
  return rs
    .map((r) => {
      const status = r.error
        ? `error [${r.error.code}] ${r.error.message}`
        : r.cancelled
          ? 'cancelled (remote processes killed)'
          : r.signal
            ? `killed by ${r.signal}`
            : `exit ${r.code}`;
      const out = [`── ${r.host} (${r.address}): ${status}, ${(r.durationMs / 1000).toFixed(2)} s`];
      if (r.stdout) out.push(indent(r.stdout.replace(/\n$/, '')));
      if (r.stderr) out.push(r.stderr.replace(/\n$/, '').split('\n').map((l) => `  ! ${l}`).join('\n'));
      if (r.truncated) out.push('  (output truncated)');
      return out.join('\n');
    })
    .join('\n');
}

export const sh: HelperDef = {
  name: 'sh',
  kind: 'function',
  signature: 'sh(role, command, opts?)',
  summary: 'run a shell command on hosts in parallel over SSH; per-host stdout, stderr, exit code',
  details: [
    'role: control, broker, worker, all, a host name, or a list of those.',
    'opts: { timeout: seconds, stream: true (print output live, prefixed by host) }.',
    'Returns an array of {host, address, stdout, stderr, code, signal?, error?, durationMs}.',
    'A non-zero exit is data, not an error. Ctrl-C kills the command (its whole process group) on',
    'every host before the prompt comes back.',
  ],
  examples: ["sh('worker', 'hostname')", "(await sh('all', 'uptime')).map(r => r.stdout)", "sh('broker', 'tail -f /var/log/syslog', { stream: true })"],
  make: (s: Session) =>
    function sh(role: unknown, command: unknown, opts: unknown = {}) {
      const sig = 'sh(role, command, opts?)';
      if (typeof command !== 'string' || command.trim() === '') throw argError(sig, `command must be a non-empty string (got ${describe(command)})`);
      if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw argError(sig, `opts must be an object like { timeout: 30 } (got ${describe(opts)})`);
      const o = opts as { timeout?: unknown; stream?: unknown };
      const unknown = Object.keys(o).filter((k) => !['timeout', 'stream'].includes(k));
      if (unknown.length) throw argError(sig, `unknown option ${unknown.join(', ')} (allowed: timeout, stream)`);
      if (o.timeout !== undefined && (typeof o.timeout !== 'number' || !(o.timeout > 0))) throw argError(sig, `opts.timeout must be a number of seconds > 0 (got ${describe(o.timeout)})`);
      selectHosts(s.exp, role, sig);
      return s.task(async (signal) => {
        const [{ shOnHosts }, session] = await Promise.all([import('../../app/remote.js'), s.ssh()]);
        const rs = await shOnHosts(s.exp, role, command, {
          signal,
          session,
          ...(typeof o.timeout === 'number' ? { timeoutMs: o.timeout * 1000 } : {}),
          ...(o.stream
            ? {
                onData: (host: string, stream: 'stdout' | 'stderr', chunk: string) =>
                  s.out.write(chunk.replace(/\n$/, '').replace(/^/gm, `${host}${stream === 'stderr' ? '!' : ''}| `) + '\n'),
              }
            : {}),
        });
        return withView(rs, () => renderExec(rs));
      });
    },
};

export const fetch: HelperDef = {
  name: 'fetch',
  kind: 'function',
  signature: 'fetch(role, path)',
  summary: 'copy a file from hosts (over SSH) into results/<exp>/fetched/<time>/<host>/',
  details: [
    'role: control, broker, worker, all, a host name, or a list of those. path: a file on the hosts.',
    'Returns an array of {host, remotePath, localPath?, bytes?, error?}. A missing file is reported per host.',
    '(This shadows the global fetch() of Node.js inside the shell.)',
  ],
  examples: ["fetch('broker', '/etc/hostname')"],
  make: (s: Session) =>
    function fetch(role: unknown, path: unknown) {
      const sig = 'fetch(role, path)';
      if (typeof path !== 'string' || path === '') throw argError(sig, `path must be a file path on the hosts (got ${describe(path)})`);
      selectHosts(s.exp, role, sig);
      return s.task(async (signal) => {
        const [{ fetchFromHosts }, session] = await Promise.all([import('../../app/remote.js'), s.ssh()]);
        const rs: FetchResult[] = await fetchFromHosts(s.exp, role, path, { signal, session });
        if (rs.every((r) => r.error)) {
          throw new GreenraceError('repl.fetch_failed', `fetch: no host gave ${path}`, { details: rs.map((r) => r.error!.message) });
        }
        return withView(rs, () =>
          table(
            rs.map((r) => [r.host, r.error ? `error: ${r.error.message}` : `${r.bytes} bytes → ${r.localPath}`]),
            ['host', 'result'],
          ),
        );
      });
    },
};
