/**
 * A real OpenSSH server on 127.0.0.1 for the remote-layer tests: its own host key, client key,
 * known_hosts, and a free port. Stopped (and its files removed) by `stop()`.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sshd {
  dir: string;
  port: number;
  keyFile: string;
  knownHostsFile: string;
  hostKeyPub: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Start sshd; `shared` reuses another fixture's keys (so a jump host and its target share them). */
export async function startSshd(shared?: { dir: string }): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'rpl-sshd-'));
  const keys = shared?.dir ?? dir;
  if (!shared) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rpl-client', '-f', join(dir, 'id_client')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rpl-host', '-f', join(dir, 'hostkey')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_client.pub')));
  }
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const cfg = join(dir, 'sshd_config');
  writeFileSync(
    cfg,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `HostKey ${join(keys, 'hostkey')}`,
      `AuthorizedKeysFile ${join(keys, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'UseDNS no',
      'AllowTcpForwarding yes',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      'MaxSessions 50',
      '',
    ].join('\n'),
  );
  const hostKeyPub = readFileSync(join(keys, 'hostkey.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKeyPub}\n`);
  const proc: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-f', cfg, '-E', join(dir, 'sshd.log')], { stdio: 'ignore' });
  // Ready when the port accepts connections.
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    port,
    keyFile: join(keys, 'id_client'),
    knownHostsFile: join(dir, 'known_hosts'),
    hostKeyPub,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Processes whose whole command line matches `re` (e.g. /^sleep 31411$/), as "pid args" lines. */
export function processesMatching(re: RegExp): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => re.test(l.replace(/^\d+\s+/, '')));
}
