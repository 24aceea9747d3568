/**
 * SSH material of one local experiment, under `<stateDir>/ssh/` (root-owned, 0700): the client key
 * Ansible uses, one host key shared by every sshd (so known_hosts is exact and written up front, and
 * StrictHostKeyChecking=yes holds), authorized_keys and known_hosts. Keys are never printed.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/files.js';
import { run } from './run.js';

export interface SshPaths {
  dir: string;
  clientKey: string;
  hostKey: string;
  authorizedKeys: string;
  knownHosts: string;
}

export function sshPaths(stateDir: string): SshPaths {
  const dir = join(stateDir, 'ssh');
  return {
    dir,
    clientKey: join(dir, 'id_ed25519'),
    hostKey: join(dir, 'host_ed25519'),
    authorizedKeys: join(dir, 'authorized_keys'),
    knownHosts: join(dir, 'known_hosts'),
  };
}

async function keygen(file: string, comment: string): Promise<void> {
  if (existsSync(file) && existsSync(file + '.pub')) return;
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
    input: 'y\n',
    what: `cannot generate an SSH key in ${file}`,
    code: 'platform.local.keygen_failed',
  });
  chmodSync(file, 0o600);
}

/** Create the keys if missing and (re)write authorized_keys. Idempotent. */
export async function ensureKeys(stateDir: string, experiment: string): Promise<SshPaths> {
  const p = sshPaths(stateDir);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  chmodSync(p.dir, 0o700);
  await keygen(p.clientKey, `greenrace-${experiment}`);
  await keygen(p.hostKey, `greenrace-${experiment}-host`);
  writeFileAtomic(p.authorizedKeys, readFileSync(p.clientKey + '.pub', 'utf8'), 0o600);
  return p;
}

/** known_hosts naming every host address with the shared host key. */
export function writeKnownHosts(p: SshPaths, addresses: string[]): void {
  const [type, key] = readFileSync(p.hostKey + '.pub', 'utf8').trim().split(/\s+/);
  const lines = addresses.map((a) => `${a} ${type} ${key}`);
  writeFileAtomic(p.knownHosts, lines.join('\n') + '\n', 0o600);
}
