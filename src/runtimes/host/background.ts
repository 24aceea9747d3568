/** Background programs on a host: started with setsid (own process group), a pidfile and a log each. */
import { shq } from '../../core/shell.js';

/**
 * The script that starts `command` in its own process group with its log and pidfile, then waits
 * until `port` listens (TCP or UDP) or, without a port, that it is still alive after a moment. On
 * failure it prints the log's last lines on stderr, stops the group and exits 1.
 */
export function startScript(o: { name: string; command: string; dir: string; pidfile: string; logfile: string; port?: number; waitSeconds: number; file?: { path: string; mode?: string } }): string {
  const wait = Math.round(o.waitSeconds * 10);
  // Its own temporary name: programs started side by side may write the same file (same content).
  const f = o.file && { q: shq(o.file.path), tmp: shq(`${o.file.path}.${o.name}.gr-tmp`) };
  return [
    `mkdir -p ${shq(o.dir)}`,
    // The file from stdin (owner-only while written), then the program that reads it.
    ...(f ? [`mkdir -p "$(dirname ${f.q})" && (umask 077 && cat > ${f.tmp}) && chmod ${o.file!.mode ?? '0600'} ${f.tmp} && mv -f ${f.tmp} ${f.q} || { echo "${o.name}: cannot write ${o.file!.path}" >&2; exit 1; }`] : []),
    `setsid sh -c ${shq(o.command)} > ${shq(o.logfile)} 2>&1 < /dev/null &`,
    `echo $! > ${shq(o.pidfile)}`,
    `p=$(cat ${shq(o.pidfile)})`,
    `[ "$p" -gt 1 ] 2>/dev/null || { echo "${o.name}: no process id" >&2; exit 1; }`,
    `alive() { [ -d /proc/$p ] && ! grep -q '^State:[[:space:]]*Z' /proc/$p/status 2>/dev/null; }`,
    o.port
      ? `for _ in $(seq 1 ${wait}); do ss -H -ltnu "sport = :${o.port}" 2>/dev/null | grep -q . && exit 0; alive || break; sleep 0.1; done`
      : `sleep 0.2; alive && exit 0`,
    `echo "${o.name} did not start${o.port ? ` (nothing listens on port ${o.port})` : ''}; last log lines:" >&2`,
    `tail -n 15 ${shq(o.logfile)} >&2`,
    `kill -TERM -$p 2>/dev/null; exit 1`,
  ].join('\n');
}

/**
 * The script that stops a background program by its pidfile (TERM to the group, KILL after `grace`
 * s). It waits for every process of the group, not only the one in the pidfile: a wrapper shell
 * dies at once on TERM while its program may still be shutting down (or ignore TERM), and the KILL
 * must reach that program too. Zombies do not count (nothing left to stop).
 */
export function stopScript(pidfile: string, grace = 3): string {
  return [
    `pf=${shq(pidfile)}`,
    `[ -f "$pf" ] || exit 0`,
    `p=$(cat "$pf")`,
    `[ "$p" -gt 1 ] 2>/dev/null || { rm -f "$pf"; exit 0; }`,
    `gone() { { [ ! -d /proc/$p ] || grep -q '^State:[[:space:]]*Z' /proc/$p/status 2>/dev/null; } && ! ps -e -o pgid=,stat= 2>/dev/null | awk -v g="$p" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; }`,
    `kill -TERM -$p 2>/dev/null || kill -TERM $p 2>/dev/null`,
    `for _ in $(seq 1 ${grace * 10}); do gone && break; sleep 0.1; done`,
    `gone || kill -KILL -$p 2>/dev/null || true`,
    `rm -f "$pf"`,
  ].join('\n');
}

/** The script that returns once every program of these pidfiles has exited (a missing pidfile counts as exited). */
export function waitScript(pidfiles: string[]): string {
  return [
    `alive() { for pf in ${pidfiles.map(shq).join(' ')}; do [ -f "$pf" ] || continue; p=$(cat "$pf"); [ -d /proc/$p ] && ! grep -q '^State:[[:space:]]*Z' /proc/$p/status 2>/dev/null && return 0; done; return 1; }`,
    `while alive; do sleep 0.5; done`,
  ].join('\n');
}
