/**
 * A reserve killed halfway (SIGKILL once namespaces exist, SIGINT while sshd start) is
 * cleaned up by `release(stateDir)` with no handle: from the intent file written before anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDown, leftovers, requireRoot, tagOf, testStateDir } from '../support/cluster.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const names = ['pltcrash1', 'pltcrash2'];

beforeAll(async () => {
  requireRoot();
  for (const n of names) {
    await clusterDown(n);
    rmSync(testStateDir(n), { recursive: true, force: true });
  }
});
afterAll(async () => {
  for (const n of names) {
    await clusterDown(n).catch(() => {});
    rmSync(testStateDir(n), { recursive: true, force: true });
  }
});

function startReserve(name: string, workers: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'test/support/cluster.ts', 'up', name, '--workers', String(workers)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function namespacesOf(tag: string): Promise<string[]> {
  const out = (await execa('ip', ['-j', 'netns', 'list'])).stdout.trim();
  return (JSON.parse(out || '[]') as Array<{ name: string }>).map((n) => n.name).filter((n) => n.startsWith(`${tag}-`));
}

function sshdCount(stateDir: string): number {
  const dir = join(stateDir, 'local', 'sshd');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.conf')).length : 0;
}

/** Poll until `cond` holds; fails when the child exits first (it must still be halfway). */
async function until(child: ChildProcess, what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`the reserve finished (exit ${child.exitCode}) before ${what}`);
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(child.signalCode) : child.once('exit', (_c, s) => r(s))));

describe('release after an interrupted reserve', () => {
  it('cleans up after a SIGKILL once namespaces exist, before the hosts are up', async () => {
    const name = names[0]!;
    const stateDir = testStateDir(name);
    const child = startReserve(name, 12);
    let tag: string | undefined;
    await until(child, 'the intent file and 3 namespaces exist', async () => {
      tag ??= tagOf(stateDir);
      return tag !== undefined && (await namespacesOf(tag)).length >= 3;
    });
    child.kill('SIGKILL');
    expect(await exited(child)).toBe('SIGKILL');
    const mid = await leftovers(tag!, stateDir);
    expect(mid.namespaces.length).toBeGreaterThanOrEqual(3);
    expect(mid.processes.length).toBeLessThan(14); // killed before every sshd was up

    await clusterDown(name); // no handle: the intent file is all it has
    expect(await leftovers(tag!, stateDir)).toEqual({ namespaces: [], links: [], netnsEtc: [], processes: [], controlSockets: [], claims: [] });
  });

  it('cleans up after a SIGINT while sshd are starting', async () => {
    const name = names[1]!;
    const stateDir = testStateDir(name);
    const child = startReserve(name, 10);
    // Halfway: configs written and at least one sshd started (the SIGINT must find something to clean).
    await until(child, 'sshd configs are written and an sshd runs', async () => {
      const t = tagOf(stateDir);
      return sshdCount(stateDir) >= 2 && t !== undefined && (await leftovers(t, stateDir)).processes.length >= 1;
    });
    child.kill('SIGINT');
    const sig = await exited(child);
    expect(sig === 'SIGINT' || child.exitCode !== 0).toBe(true);
    const tag = tagOf(stateDir)!;
    expect(tag).toMatch(/^gr/);
    const mid = await leftovers(tag, stateDir);
    expect(mid.processes.length).toBeGreaterThanOrEqual(1); // some sshd were started and outlive the child

    const lines: string[] = [];
    await clusterDown(name, stateDir, (l) => lines.push(l));
    expect(lines.join('\n')).toMatch(/released 12 namespaces/);
    expect(await leftovers(tag, stateDir)).toEqual({ namespaces: [], links: [], netnsEtc: [], processes: [], controlSockets: [], claims: [] });
  });
});
