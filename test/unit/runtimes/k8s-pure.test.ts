import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar } from '../../../src/runtimes/k8s/tar.js';
import { exitCodeOf, killableCommand, apiMessage } from '../../../src/runtimes/k8s/kube.js';
import { eventLines, hopeless, isReady, notReadyDetails, whyNotReady } from '../../../src/runtimes/k8s/readiness.js';

const dir = mkdtempSync(join(tmpdir(), 'gr-tar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tar over exec: reading what `tar cf -` writes', () => {
  it('reads files and folders as GNU tar writes them, long names included, byte for byte', () => {
    const long = 'd/' + 'n'.repeat(120) + '.txt';
    mkdirSync(join(dir, 'src', 'd'), { recursive: true });
    writeFileSync(join(dir, 'src', 'a.log'), 'hello\n');
    const bin = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
    writeFileSync(join(dir, 'src', 'd', 'bin'), bin);
    writeFileSync(join(dir, 'src', long), 'long name');
    for (const format of ['gnu', 'ustar', 'pax']) {
      if (format === 'ustar') continue; // ustar cannot hold a 120-character base name
      const tar = execFileSync('tar', ['cf', '-', `--format=${format}`, '-C', join(dir, 'src'), 'a.log', 'd']);
      const entries = readTar(tar);
      const byName = new Map(entries.map((e) => [e.name, e]));
      expect(byName.get('a.log')?.data.toString(), format).toBe('hello\n');
      expect(byName.get('d/bin')?.data.equals(bin), format).toBe(true);
      expect(byName.get(long)?.data.toString(), format).toBe('long name');
      expect(byName.get('d/')?.type ?? byName.get('d')?.type).toBe('dir');
    }
    const one = readTar(execFileSync('tar', ['cf', '-', '-C', join(dir, 'src'), 'a.log']));
    expect(one.map((e) => [e.name, e.type, e.mode & 0o777])).toEqual([['a.log', 'file', readMode(join(dir, 'src', 'a.log'))]]);
  });

  it('refuses a stream that is not tar or is cut short', () => {
    expect(() => readTar(Buffer.from('x'.repeat(1024)))).toThrow('not a tar archive');
    const tar = execFileSync('tar', ['cf', '-', '-C', join(dir, 'src'), 'd/bin']);
    expect(() => readTar(tar.subarray(0, 1024))).toThrow('tar archive cut short');
    expect(readTar(Buffer.alloc(0))).toEqual([]);
  });
});

function readMode(p: string): number {
  return Number(execFileSync('stat', ['-c', '%a', p]).toString().trim().replace(/^/, '0o'));
}

describe('exec', () => {
  it('reads the exit code from the exec status', () => {
    expect(exitCodeOf({ status: 'Success' })).toBe(0);
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } })).toBe(3);
    expect(exitCodeOf({ status: 'Failure', message: 'container not found' })).toBeUndefined();
    expect(exitCodeOf(undefined)).toBeUndefined();
  });

  it('the killable wrapper runs the command with its exit code and records its process group first', () => {
    const pidfile = join(dir, 'pgid');
    const argv = killableCommand(`echo "it's $((1+2))"; exit 7`, pidfile);
    let out = '';
    let code = 0;
    try {
      out = execFileSync(argv[0]!, argv.slice(1)).toString();
    } catch (e) {
      code = (e as { status: number }).status;
      out = (e as { stdout: Buffer }).stdout.toString();
    }
    expect(out).toBe("it's 3\n");
    expect(code).toBe(7);
    expect(Number(readFileSync(pidfile, 'utf8'))).toBeGreaterThan(1);
  });

  it('API errors read as the Status message', () => {
    expect(apiMessage({ code: 422, body: JSON.stringify({ message: 'Pod "x" is invalid: spec.containers: Required value' }) })).toBe('HTTP 422: Pod "x" is invalid: spec.containers: Required value');
    expect(apiMessage(new Error('connect ECONNREFUSED 10.0.0.1:6443'))).toBe('connect ECONNREFUSED 10.0.0.1:6443');
  });
});

describe('readiness: what is not ready and why', () => {
  const pending = {
    metadata: { name: 'iperf3-client-x' },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: "0/4 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 3 node(s) didn't match Pod's node affinity/selector." }] },
  };
  const pullErr = {
    metadata: { name: 'srv' },
    spec: { nodeName: 'worker-2' },
    status: { phase: 'Pending', containerStatuses: [{ name: 'server', ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "greenrace.local/tools:nope"' } } }] },
  };
  const crash = {
    metadata: { name: 'c' },
    status: { phase: 'Running', containerStatuses: [{ name: 'netserver', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, lastState: { terminated: { exitCode: 127, reason: 'Error' } } }] },
  };
  const ready = { metadata: { name: 'ok' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
  const notYet = { metadata: { name: 'slow' }, spec: { nodeName: 'worker-1' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', message: 'containers with unready status: [server]' }], containerStatuses: [{ name: 'server', ready: false, state: { running: {} } }] } };

  it('tells ready pods, pods that may still come, and pods that never will', () => {
    expect(isReady(ready)).toBe(true);
    expect(isReady(notYet)).toBe(false);
    expect(hopeless(pending)).toBeUndefined();
    expect(hopeless(notYet)).toBeUndefined();
    expect(hopeless(pullErr)).toBe('container server: ImagePullBackOff: Back-off pulling image "greenrace.local/tools:nope"');
    expect(hopeless(crash)).toBe('container netserver: CrashLoopBackOff: back-off 40s (last exit 127 Error)');
    expect(hopeless({ status: { phase: 'Failed', reason: 'Evicted', message: 'low on memory' } })).toBe('failed (Evicted): low on memory');
  });

  it('names the scheduler reason of a pending pod and the state of each container', () => {
    expect(whyNotReady(pending)).toBe("Pending; not scheduled: 0/4 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 3 node(s) didn't match Pod's node affinity/selector.");
    expect(whyNotReady(notYet)).toBe('Running on worker-1; container server running, not ready; containers with unready status: [server]');
  });

  it('detail lines: each pod not ready with its warning events (deduplicated, newest last)', () => {
    const events = {
      slow: [
        { type: 'Normal', reason: 'Pulled', message: 'ok' },
        { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: ', count: 3 },
        { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: ', count: 3 },
      ],
    } as Record<string, any[]>;
    expect(notReadyDetails([ready, notYet, pending], (n) => events[n] ?? [])).toEqual([
      'pod slow: Running on worker-1; container server running, not ready; containers with unready status: [server]',
      '  Unhealthy: Readiness probe failed: (×3)',
      `pod iperf3-client-x: ${whyNotReady(pending)}`,
    ]);
    expect(eventLines(Array.from({ length: 9 }, (_, i) => ({ type: 'Warning', reason: 'R', message: String(i) })), 3)).toEqual(['R: 6', 'R: 7', 'R: 8']);
  });
});
