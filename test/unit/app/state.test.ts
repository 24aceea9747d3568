import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clearState, experimentNameOf, lockPath, lockState, readState, writeState, type ExperimentState } from '../../../src/app/state.js';
import { experimentSchema } from '../../../src/experiment/schema.js';

const root = mkdtempSync(join(tmpdir(), 'gr-app-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sample = (): ExperimentState => ({
  version: 1,
  experiment: 'app-st',
  phase: 'reserving',
  platformKind: 'local',
  experimentSnapshot: experimentSchema.parse({ name: 'app-st' }),
  files: ['/x/app-st.yaml'],
  services: [],
  endpoints: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('state file', () => {
  it('round-trips, private to the user, with no temporary files left', () => {
    const dir = join(root, 'a');
    const w = writeState(dir, sample());
    expect(readState(dir)).toEqual(w);
    expect(w.updatedAt).not.toBe('2026-01-01T00:00:00.000Z');
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('is absent before setup and says how to clean up when corrupt', () => {
    expect(readState(join(root, 'none'))).toBeUndefined();
    const dir = join(root, 'bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'state.json'), '{"phase": ');
    expect(() => readState(dir)).toThrow(/state\.json is not valid JSON .*; run killjob to clean up/);
  });
});

describe('state lock', () => {
  it('refuses a second command while the first one runs, naming it', async () => {
    const dir = join(root, 'locked');
    const holder = spawn('sleep', ['30']);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(lockPath(dir), JSON.stringify({ pid: holder.pid, command: 'entrypoint setup app-st', since: 'now' }));
      let err: any;
      try {
        lockState('app-st', 'entrypoint killjob app-st', dir);
      } catch (e) {
        err = e;
      }
      expect(err?.code).toBe('state.locked');
      expect(err.message).toBe(`experiment app-st is busy: \`entrypoint setup app-st\` (pid ${holder.pid}) has been working on it since now`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over the lock of a command that died, and releases it', async () => {
    const dir = join(root, 'stale');
    mkdirSync(dir, { recursive: true });
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(lockPath(dir), JSON.stringify({ pid: dead.pid, command: 'entrypoint setup app-st', since: 'then' }));
    const lock = lockState('app-st', 'entrypoint setup app-st', dir);
    expect(JSON.parse(readFileSync(lockPath(dir), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lockPath(dir))).toBe(false);
  });

  it('two commands breaking the same stale lock: the second does not remove the lock the first just took', async () => {
    const dir = join(root, 'stale-race');
    mkdirSync(dir, { recursive: true });
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(lockPath(dir), JSON.stringify({ pid: dead.pid, command: 'entrypoint setup app-st', since: 'then' }));
    let first: ReturnType<typeof lockState> | undefined;
    let err: any;
    try {
      // The second command has judged the lock stale; before it breaks it, the first one takes it over.
      lockState('app-st', 'entrypoint killjob app-st', dir, {
        onStale: () => {
          first ??= lockState('app-st', 'entrypoint setup app-st', dir);
        },
      });
    } catch (e) {
      err = e;
    }
    expect(first).toBeDefined();
    expect(err?.code).toBe('state.locked');
    expect(err.message).toMatch(/^experiment app-st is busy: `entrypoint setup app-st` \(pid \d+\)/);
    expect(JSON.parse(readFileSync(lockPath(dir), 'utf8')).command).toBe('entrypoint setup app-st');
    first!.release();
    expect(existsSync(lockPath(dir))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock this process took and released is not held; one it holds is', () => {
    const dir = join(root, 'own');
    const a = lockState('app-st', 'entrypoint setup app-st', dir);
    expect(() => lockState('app-st', 'entrypoint killjob app-st', dir)).toThrow(/is busy: `entrypoint setup app-st`/);
    a.release();
    lockState('app-st', 'entrypoint killjob app-st', dir).release();
  });

  it('clearState removes the experiment folder and an emptied .greenrace/', () => {
    const gr = join(root, 'home', '.greenrace');
    const dir = join(gr, 'app-st');
    writeState(dir, sample());
    clearState(dir);
    expect(existsSync(gr)).toBe(false);
    expect(existsSync(join(root, 'home'))).toBe(true);
  });
});

describe('experiment names for status and killjob', () => {
  it('accepts a name or a file path, refuses anything else', () => {
    expect(experimentNameOf('quickstart')).toBe('quickstart');
    expect(experimentNameOf('./experiments/app-x.yaml')).toBe('app-x');
    expect(() => experimentNameOf('Bad Name')).toThrow(/is not an experiment name/);
  });
});
