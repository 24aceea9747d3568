// Runs the real ansible-playbook against this machine (connection local) and one refused SSH port.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runPlaybook } from '../../../src/ansible/runner.js';
import { AnsibleError, ExitCode, InterruptedError } from '../../../src/core/errors.js';
import { fixturePlaybook, localHost, makeState, unreachableHost } from './local-state.js';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));
function state(...args: Parameters<typeof makeState>): string {
  const s = makeState(...args);
  cleanups.push(s.cleanup);
  return s.dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe('runPlaybook', { timeout: 180_000 }, () => {
  it('turns failed and unreachable hosts into one AnsibleError naming host, task and the reason', async () => {
    const dir = state([localHost('l1', 'control'), localHost('l2', 'worker'), unreachableHost('u1')]);
    const lines: string[] = [];
    const err = await runPlaybook({ stateDir: dir, playbook: fixturePlaybook('mixed.yml'), progress: (l) => lines.push(l) }).catch((e) => e);
    expect(err).toBeInstanceOf(AnsibleError);
    const e = err as AnsibleError;
    expect(e.exitCode).toBe(ExitCode.ansible);
    expect(e.message).toBe('mixed: task "Say hello" could not reach u1 (and on 1 more host: l2)');
    expect(e.failures.map((f) => [f.host, f.task, f.status])).toEqual([
      ['u1', 'Say hello', 'unreachable'],
      ['l2', 'Fail on the second host', 'failed'],
    ]);
    expect(e.details).toContain('  exit code 3: the reason: disk full on l2');
    expect(e.details.length).toBeLessThanOrEqual(20);
    // The full log is kept under the state folder, with ansible's own output.
    expect(e.logFile).toMatch(new RegExp(`^${dir}/logs/.*-mixed\\.log$`));
    expect(readFileSync(e.logFile!, 'utf8')).toContain('PLAY RECAP');
    expect(lines[0]).toBe('play: Mixed results  [all]');
  });

  it('returns the recap and task results when failures are tolerated, and keeps no_log output out of its files', async () => {
    const dir = state([localHost('l1', 'control'), localHost('l2', 'worker')]);
    const r = await runPlaybook({ stateDir: dir, playbook: fixturePlaybook('mixed.yml'), tolerate: 'all', extraVars: { gr_test_secret: 'NEVER-PRINT-ME' } });
    expect(r.exitCode).toBe(2);
    expect(r.recap.l1).toMatchObject({ ok: 6, changed: 1, failed: 0 });
    expect(r.failures.map((f) => f.host)).toEqual(['l2']);
    expect(r.ignored.map((f) => f.host).sort()).toEqual(['l1', 'l2']);
    expect(r.custom).toEqual({ l1: { gr_test_endpoint: 'http://l1:1234' }, l2: { gr_test_endpoint: 'http://l2:1234' } });
    expect(readFileSync(r.eventsFile, 'utf8')).not.toContain('NEVER-PRINT-ME');
    expect(readFileSync(r.logFile, 'utf8')).not.toContain('NEVER-PRINT-ME');
  });

  it('names the rescue that explains a failure, not the failure its rescue handled', async () => {
    const dir = state([localHost('l1', 'control')]);
    const lines: string[] = [];
    const err = (await runPlaybook({ stateDir: dir, playbook: fixturePlaybook('rescued.yml'), progress: (l) => lines.push(l) }).catch((e) => e)) as AnsibleError;
    expect(err).toBeInstanceOf(AnsibleError);
    expect(err.message).toBe('rescued: task "Say why it gave up" failed on l1');
    expect(err.failures.map((f) => f.task)).toEqual(['Say why it gave up']);
    expect(err.details).toContain('  the wait gave up: Give up waiting');
    expect(lines.some((l) => /✓ Give up waiting .*failed \(handled by its rescue\): l1/.test(l))).toBe(true);
  });

  it("reports ansible's own errors (bad playbook) with its message", async () => {
    const dir = state([localHost('l1', 'control')]);
    const err = (await runPlaybook({ stateDir: dir, playbook: fixturePlaybook('syntax-error.yml') }).catch((e) => e)) as AnsibleError;
    expect(err).toBeInstanceOf(AnsibleError);
    expect(err.code).toBe('ansible.error');
    expect(err.message).toMatch(/^syntax-error: couldn't resolve module\/action 'no\.such\.module_anywhere'/);
  });

  it('refuses a service whose role does not exist, by name (setup.yml preflight)', async () => {
    const dir = state([localHost('l1', 'control')]);
    const err = (await runPlaybook({ stateDir: dir, playbook: 'setup', extraVars: { gr_services: ['no_such_service'], gr_service_hosts: {} } }).catch((e) => e)) as AnsibleError;
    expect(err).toBeInstanceOf(AnsibleError);
    expect(err.failures[0]!.task).toBe('Refuse services without a role');
    expect(err.details.join('\n')).toContain('service no_such_service: there is no Ansible role ansible/roles/no_such_service');
  });

  it('stops ansible on abort (SIGINT, then TERM/KILL after the grace) and throws InterruptedError', async () => {
    const dir = state([localHost('l1', 'control')]);
    const ac = new AbortController();
    let pids: number[] = [];
    const started = Date.now();
    // A duration unique to this test run, so pgrep finds only this run's sleep (not another
    // worktree's test or anyone's `sleep 120`).
    const seconds = `120.${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const p = runPlaybook({
      stateDir: dir,
      playbook: fixturePlaybook('sleep.yml'),
      extraVars: { sleep_seconds: seconds },
      signal: ac.signal,
      graceMs: 3000,
      progress: () => {},
    });
    // Abort once the sleep runs.
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      // Anchored, so the shell running pgrep does not match itself.
      const out = (await import('node:child_process')).execSync(`pgrep -f '^sleep ${seconds}$' || true`).toString().trim();
      if (out) {
        pids = out.split('\n').map(Number);
        break;
      }
    }
    expect(pids.length).toBeGreaterThan(0);
    ac.abort();
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).exitCode).toBe(130);
    expect(Date.now() - started).toBeLessThan(60_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync((err as InterruptedError).logFile!)).toBe(true);
  });
});
