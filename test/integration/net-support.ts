/** Namespace hosts with sshd on 10.83.0.0/24 for the net-* and race-* tests (bench/net/nethosts.sh). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '../../src/core/types.js';
import type { NetHost } from '../../src/workloads/net/tools/types.js';

const SCRIPT = join(__dirname, '../../bench/net/nethosts.sh');
// Overridable so two engineers' runs on one machine do not share namespaces (defaults: net, 10.83.0).
export const NET = process.env.GREENRACE_TEST_NET_SUBNET ?? '10.83.0';
export const PREFIX = process.env.GREENRACE_TEST_NET_PREFIX ?? 'net';
export const STATE = `/tmp/greenrace-${PREFIX}`;

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('these integration tests need root (network namespaces, sshd)');
}

export function upHosts(roles: Role[]): NetHost[] {
  requireRoot();
  execFileSync(SCRIPT, ['down', PREFIX, STATE], { stdio: 'ignore' });
  execFileSync(SCRIPT, ['up', String(roles.length), PREFIX, NET, STATE], { stdio: 'ignore' });
  return roles.map((r, i) => ({
    name: `${PREFIX}${i + 1}`,
    address: `${NET}.${11 + i}`,
    port: 22,
    user: 'root',
    keyFile: `${STATE}/ssh/id`,
    roles: [r],
    vars: { ansible_ssh_common_args: `-o UserKnownHostsFile=${STATE}/ssh/known_hosts -o StrictHostKeyChecking=yes` },
    dataDir: `${STATE}/hosts/${PREFIX}${i + 1}/data`,
  }));
}

export function downHosts(): void {
  execFileSync(SCRIPT, ['down', PREFIX, STATE], { stdio: 'ignore' });
}

/** Programs running in a host's namespace (comm names), e.g. to check that cleanup left only sshd. */
export function nsProcesses(host: string): string[] {
  const pids = execFileSync('ip', ['netns', 'pids', host], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return pids.flatMap((p) => {
    try {
      return [execFileSync('cat', [`/proc/${p}/comm`], { encoding: 'utf8' }).trim()];
    } catch {
      return [];
    }
  });
}

/** A throwaway GREENRACE_HOME with experiments/<name>.yaml; returns the home. */
export function tempHome(name: string, yaml: string): string {
  const home = mkdtempSync(join(tmpdir(), 'gr-net-'));
  mkdirSync(join(home, 'experiments'), { recursive: true });
  writeFileSync(join(home, 'experiments', `${name}.yaml`), yaml);
  process.env.GREENRACE_HOME = home;
  return home;
}

/** A state file as `setup` leaves it, so CLI commands find the hosts. */
export function writeState(home: string, exp: string, hosts: NetHost[], endpoints: Record<string, string> = {}): void {
  const dir = join(home, '.greenrace', exp);
  mkdirSync(dir, { recursive: true });
  const now = new Date().toISOString();
  writeFileSync(
    join(dir, 'state.json'),
    JSON.stringify({
      version: 1, experiment: exp, phase: 'ready', platformKind: 'static',
      platform: { kind: 'static', data: {}, hosts: hosts.map(({ dataDir: _d, ...h }) => h), dataDirs: Object.fromEntries(hosts.map((h) => [h.name, h.dataDir])), sharedFilesystem: true },
      experimentSnapshot: {}, files: [], services: [], endpoints, createdAt: now, updatedAt: now,
    }),
  );
}

export function rmHome(home: string): void {
  rmSync(home, { recursive: true, force: true });
  delete process.env.GREENRACE_HOME;
}
