/**
 * `entrypoint i` on a real local cluster (namespace hosts on 10.86.0.0/24): a scripted run with piped
 * input, and a terminal run under tmux (completion, Ctrl-C during a long sh, Ctrl-D).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..', '..');
/** tsx's loader by absolute path: the shell runs in a temporary home, where `--import tsx` would not resolve. */
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const EXP = 'rpl-it';
let home: string;

const cli = (args: string[], input?: string) =>
  execa(process.execPath, ['--import', TSX, join(REPO, 'entrypoint.ts'), ...args], {
    cwd: home,
    env: { GREENRACE_HOME: home, NO_COLOR: '1' },
    reject: false,
    all: true,
    timeout: 900_000,
    ...(input !== undefined ? { input } : {}),
  });

const sleeps = (n: number): string[] =>
  execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => new RegExp(`^\\d+ sleep ${n}$`).test(l));

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the repl integration tests need root (network namespaces for the local platform)');
  home = mkdtempSync(join(tmpdir(), 'rpl-it-'));
  mkdirSync(join(home, 'experiments'));
  writeFileSync(
    join(home, 'experiments', `${EXP}.yaml`),
    [
      'description: repl integration test',
      'platform:',
      '  kind: local',
      '  local:',
      '    subnet: 10.86.0.0/24',
      'roles: { control: 1, broker: 0, worker: 2 }',
      'services: [prometheus]',
      'monitoring:',
      '  scrape_interval: 1s',
      '',
    ].join('\n'),
  );
  const r = await cli(['setup', EXP]);
  if (r.exitCode !== 0) throw new Error(`setup failed:\n${r.all}`);
}, 900_000);

afterAll(async () => {
  if (!home) return;
  spawnSync('tmux', ['kill-session', '-t', `rpl-${process.pid}`]);
  const r = await cli(['killjob', EXP]);
  if (r.exitCode === 0) rmSync(home, { recursive: true, force: true });
  expect(r.exitCode, r.all).toBe(0);
}, 300_000);

describe('entrypoint i with piped input', () => {
  it('reloads with an override, deploys node_exporter, runs commands, queries, survives a failure, exits 0', async () => {
    const script = [
      "loadConfig({ 'monitoring.scrape_interval': '2s' })",
      "p('node_exporter')",
      "hosts('worker')",
      "sh('worker', 'hostname')",
      // Wait (at most 90 s) until Prometheus has scraped the three new exporters.
      "for (let i = 0; i < 90 && (await query('up{job=\"node\"} == 1')).length < 3; i++) await new Promise((r) => setTimeout(r, 1000))",
      "query('up')",
      "sh('nosuchrole', 'true')",
      "(await sh('worker', 'echo still-here')).map((r) => r.stdout.trim() + '@' + r.host).join(' ')",
      '',
    ].join('\n');
    const r = await cli(['i', EXP], script);
    const out = r.all ?? '';
    writeFileSync(join(tmpdir(), 'rpl-it-transcript.txt'), script + '\n----\n' + out);
    expect(r.exitCode, out).toBe(0);
    expect(out).toContain(`reloaded ${EXP}: 1 change`);
    expect(out).toContain('monitoring.scrape_interval: 1 → 2');
    expect(out).toMatch(/node_exporter deployed in [\d.]+ s: ok 3, changed \d, failed 0/);
    // p(service) runs that service's play (and Prometheus' to scrape it), not every service's.
    expect(out).toContain('deploying node_exporter on control-1, worker-1, worker-2 (and reconfiguring prometheus to scrape it)');
    expect(out).toMatch(/worker-1\s+10\.86\.0\.\d+\s+worker\n.*worker-2\s+10\.86\.0\.\d+\s+worker/);
    // sh('worker', 'hostname'): each host answers with its own name.
    expect(out).toMatch(/── worker-1 \(10\.86\.0\.\d+\): exit 0, [\d.]+ s\n {2}worker-1\n── worker-2 \(10\.86\.0\.\d+\): exit 0, [\d.]+ s\n {2}worker-2\n/);
    // query('up'): the three node exporters are scraped.
    const upNode = out.split('\n').filter((l) => /up\{.*instance="10\.86\.0\.\d+:9100".*job="node".*\}\s+1$/.test(l));
    expect(upNode, out).toHaveLength(3);
    expect(out).toContain('error [repl.bad_argument] sh(role, command, opts?): "nosuchrole" is neither a role');
    expect(out).toContain("'still-here@worker-1 still-here@worker-2'");
    expect(out).not.toMatch(/\n\s+at /);
  }, 900_000);
});

describe('entrypoint i in a terminal (tmux)', () => {
  it('completes a helper name, cancels a long sh with Ctrl-C leaving no remote process, exits 0 on Ctrl-D', async () => {
    const session = `rpl-${process.pid}`;
    const rc = join(home, 'tmux-exit-code');
    const cmd = `cd ${home} && GREENRACE_HOME=${home} ${process.execPath} --import ${TSX} ${join(REPO, 'entrypoint.ts')} i ${EXP} --no-history; echo $? > ${rc}; sleep 60`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '180', '-y', '50', cmd]);
    const pane = (): string => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    const keys = (...k: string[]): void => void execFileSync('tmux', ['send-keys', '-t', session, ...k]);
    const waitFor = async (pred: () => boolean, what: string, ms = 60_000): Promise<void> => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; pane:\n${pane()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const prompts = (): number => (pane().match(/gr:rpl-it \[up 3 hosts\]>/g) ?? []).length;
    await waitFor(() => prompts() >= 1, 'the prompt');

    keys('loadC');
    await waitFor(() => pane().includes('loadC'), 'the typed text');
    keys('Tab');
    await waitFor(() => /> loadConfig\s*$/m.test(pane()), 'completion of loadConfig');
    keys('C-u');

    keys("sh('worker', 'sleep 31497')", 'Enter');
    await waitFor(() => sleeps(31497).length === 2, 'sleep 31497 on both workers');
    const before = prompts();
    keys('C-c');
    await waitFor(() => pane().includes('stopped on worker-1, worker-2') && prompts() > before, 'the prompt after Ctrl-C', 20_000);
    expect(sleeps(31497)).toEqual([]);
    expect(pane()).toContain('^C cancelling');

    // The same under an explicit await (issue 13 item 16).
    keys("await sh('worker', 'sleep 31498')", 'Enter');
    await waitFor(() => sleeps(31498).length === 2, 'sleep 31498 on both workers');
    const beforeAwait = prompts();
    keys('C-c');
    await waitFor(() => prompts() > beforeAwait, 'the prompt after Ctrl-C under await', 20_000);
    expect(sleeps(31498)).toEqual([]);
    expect(pane()).toMatch(/await sh\('worker', 'sleep 31498'\)[\s\S]*\^C cancelling…/);

    // The shell still works after the cancel.
    keys("sh('worker-2', 'echo alive')", 'Enter');
    await waitFor(() => /\n {2}alive\n/.test(pane()), 'the next command');

    keys('C-d');
    await waitFor(() => {
      try {
        return readFileSync(rc, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    }, 'the shell to exit');
    expect(readFileSync(rc, 'utf8').trim()).toBe('0');
  }, 300_000);
});
