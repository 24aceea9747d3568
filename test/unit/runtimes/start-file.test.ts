/**
 * The host executor's start script with a file (src/runtimes/host/background.ts): the file the
 * program reads is written from stdin in the same round trip, owner-only, before the program
 * starts. Run here with the real shell, as the host runs it after SSH.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startScript, stopScript } from '../../../src/runtimes/host/background.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('startScript with a file', () => {
  it('writes the file (mode 0600, its folder made) before the program that reads it starts', () => {
    const root = mkdtempSync(join(tmpdir(), 'gr-setupspeed-start-'));
    dirs.push(root);
    const dir = join(root, 'run', 'a');
    const plan = join(dir, 'plan.json');
    const out = join(dir, 'copy.json');
    const o = { name: 'reader', command: `cat '${plan}' > '${out}'; sleep 5`, dir, pidfile: join(dir, 'reader.pid'), logfile: join(dir, 'reader.log'), waitSeconds: 2, file: { path: plan } };
    const r = spawnSync('sh', ['-c', startScript(o)], { input: '{"token":"secret"}\n', encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(plan, 'utf8')).toBe('{"token":"secret"}\n');
    expect(statSync(plan).mode & 0o777).toBe(0o600);
    spawnSync('sh', ['-c', stopScript(o.pidfile, 1)]);
    expect(readFileSync(out, 'utf8')).toBe('{"token":"secret"}\n');
  });

  it('fails, starting nothing, when the file cannot be written', () => {
    const root = mkdtempSync(join(tmpdir(), 'gr-setupspeed-start-'));
    dirs.push(root);
    const blocker = join(root, 'not-a-folder');
    spawnSync('sh', ['-c', `: > '${blocker}'`]);
    const o = { name: 'reader', command: `touch '${join(root, 'ran')}'`, dir: root, pidfile: join(root, 'reader.pid'), logfile: join(root, 'reader.log'), waitSeconds: 1, file: { path: join(blocker, 'plan.json') } };
    const r = spawnSync('sh', ['-c', startScript(o)], { input: 'x', encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`reader: cannot write ${join(blocker, 'plan.json')}`);
    expect(spawnSync('test', ['-e', join(root, 'ran')]).status).toBe(1);
  });

  it('stop: a program that outlives its wrapper shell (TERM ignored) is killed with its group, not left running', () => {
    const root = mkdtempSync(join(tmpdir(), 'gr-stop-group-'));
    dirs.push(root);
    const mark = `${31400 + Math.floor(Math.random() * 99)}.5`; // an argument no other process has
    // The wrapper shell (`sh -c`) dies at once on TERM; its child ignores TERM and runs on.
    const o = { name: 'stubborn', command: `(trap '' TERM; exec sleep ${mark}); true`, dir: root, pidfile: join(root, 'stubborn.pid'), logfile: join(root, 'stubborn.log'), waitSeconds: 1 };
    const sleeping = (): string[] => spawnSync('pgrep', ['-f', `^sleep ${mark}$`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(spawnSync('sh', ['-c', startScript(o)], { encoding: 'utf8' }).status).toBe(0);
    expect(sleeping()).toHaveLength(1);
    const r = spawnSync('sh', ['-c', stopScript(o.pidfile, 1)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(sleeping()).toEqual([]);
  });
});
