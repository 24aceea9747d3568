/** The remote layer against a real OpenSSH server on 127.0.0.1. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execMany, execTarget, fetchMany, SshSession, type SshTarget } from '../../../src/remote/index.js';
import { InterruptedError } from '../../../src/core/errors.js';
import { processesMatching, startSshd, type Sshd } from './sshd-fixture.js';

let a: Sshd;
let b: Sshd;
let work: string;
const target = (s: Sshd, name: string, extra: Partial<SshTarget> = {}): SshTarget => ({
  name,
  address: '127.0.0.1',
  port: s.port,
  user: 'root',
  keyFile: s.keyFile,
  knownHostsFile: s.knownHostsFile,
  ...extra,
});

beforeAll(async () => {
  a = await startSshd();
  b = await startSshd({ dir: a.dir });
  work = mkdtempSync(join(tmpdir(), 'rpl-fetch-'));
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('exec over OpenSSH', { timeout: 120_000 }, () => {
  it('returns stdout, stderr and the exit code of each host', async () => {
    const [r1, r2] = await execMany([target(a, 'h1'), target(b, 'h2')], 'echo out-$SSH_CONNECTION | cut -c1-7; echo err >&2; exit 3');
    for (const r of [r1!, r2!]) {
      expect(r.stdout).toBe('out-127\n');
      expect(r.stderr).toBe('err\n');
      expect(r.code).toBe(3);
      expect(r.error).toBeUndefined();
    }
    expect([r1!.host, r2!.host]).toEqual(['h1', 'h2']);
  });

  it('keeps quotes and special characters of the command intact', async () => {
    const r = await execTarget(target(a, 'h1'), `printf '%s|' "it's" 'a $HOME' && echo`);
    expect(r.stdout).toBe(`it's|a $HOME|\n`);
    expect(r.code).toBe(0);
  });

  it('reports a command killed by a signal with the signal name', async () => {
    const r = await execTarget(target(a, 'h1'), 'kill -TERM $$');
    expect(r.code).toBeNull();
    expect(r.signal).toBe('SIGTERM');
    expect(r.stderr).toBe('');
  });

  it('cancelling stops the command and kills its whole remote process group', async () => {
    const ac = new AbortController();
    const session = new SshSession();
    const run = execMany([target(a, 'h1'), target(b, 'h2')], 'sleep 31411 & sleep 31412; echo never', { signal: ac.signal, session });
    for (let i = 0; i < 150 && processesMatching(/^sleep 3141[12]$/).length < 4; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesMatching(/^sleep 3141[12]$/)).toHaveLength(4);
    const t0 = Date.now();
    ac.abort();
    await expect(run).rejects.toBeInstanceOf(InterruptedError);
    // TERM, at most 2 s of grace, KILL: well under 10 s even on a loaded machine.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(processesMatching(/^sleep 3141[12]$/)).toEqual([]);
    // The shared connection still works after a cancel.
    expect((await execTarget(target(a, 'h1'), 'echo again', { session })).stdout).toBe('again\n');
    await session.close();
  });

  it('a timeout kills the command and says so', async () => {
    const r = await execTarget(target(a, 'h1'), 'sleep 31413', { timeoutMs: 500 });
    expect(r.cancelled).toBe(true);
    expect(r.error?.code).toBe('remote.timeout');
    expect(processesMatching(/^sleep 31413$/)).toEqual([]);
  });

  it('refuses a host whose key differs from known_hosts, naming the host', async () => {
    const kh = join(work, 'bad_known_hosts');
    writeFileSync(kh, `[127.0.0.1]:${a.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd5Eq2UhYpA9h0i0dMqv2h3jRRr3lV3uxzx7HqYc8qk\n`);
    const r = await execTarget(target(a, 'h1', { knownHostsFile: kh }), 'true');
    expect(r.error?.code).toBe('remote.host_key');
    expect(r.error?.message).toContain('h1');
    expect(r.error?.message).toContain('does not match');
  });

  it('refuses an unlisted host under strict checking', async () => {
    const kh = join(work, 'empty_known_hosts');
    writeFileSync(kh, '');
    const r = await execTarget(target(a, 'h1', { knownHostsFile: kh }), 'true');
    expect(r.error?.code).toBe('remote.host_key');
    expect(r.error?.message).toMatch(/not listed/);
  });

  it('explains an authentication failure and a closed port', async () => {
    const other = join(work, 'id_other');
    const { execFileSync } = await import('node:child_process');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const r = await execTarget(target(a, 'h1', { keyFile: other }), 'true');
    expect(r.error?.code).toBe('remote.auth');
    expect(r.error?.message).toContain('h1');
    const closed = await execTarget(target(a, 'h9', { port: 1 }), 'true', { connectTimeoutMs: 3000 });
    expect(closed.error?.code).toBe('remote.connect');
    expect(closed.error?.message).toMatch(/h9.*ECONNREFUSED/);
  });

  it('goes through a jump host', async () => {
    const t = target(b, 'inner', { jump: target(a, 'gateway') });
    const r = await execTarget(t, 'echo via-jump');
    expect(r.stdout).toBe('via-jump\n');
    // sshd logs the forwarded connection on the jump host.
    expect(readFileSync(join(a.dir, 'sshd.log'), 'utf8')).toMatch(/Accepted publickey/);
  });
});

describe('fetch over ssh', { timeout: 120_000 }, () => {
  it('copies a file from each host into <dir>/<host>/ and names missing files', async () => {
    const src = join(work, 'remote-file.txt');
    writeFileSync(src, 'x'.repeat(70_000));
    const res = await fetchMany([target(a, 'h1'), target(b, 'h2')], src, join(work, 'out'));
    expect(res.map((r) => r.localPath)).toEqual([join(work, 'out', 'h1', 'remote-file.txt'), join(work, 'out', 'h2', 'remote-file.txt')]);
    expect(readFileSync(res[0]!.localPath!, 'utf8')).toHaveLength(70_000);
    expect(res[1]!.bytes).toBe(70_000);
    const [missing] = await fetchMany([target(a, 'h1')], '/nonexistent/file', join(work, 'out'));
    expect(missing!.error).toEqual({ code: 'remote.no_such_file', message: 'h1: /nonexistent/file does not exist' });
    const [dir] = await fetchMany([target(a, 'h1')], work, join(work, 'out'));
    expect(dir!.error?.code).toBe('remote.is_directory');
  });
});
