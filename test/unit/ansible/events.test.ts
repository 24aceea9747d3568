import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLog, LineSplitter, failureLines, parseEventLine, type ResultEvent } from '../../../src/ansible/events.js';
import { ProgressReporter } from '../../../src/ansible/progress.js';

// Recorded from a real ansible-playbook run of test/fixtures/ansible/playbooks/mixed.yml
// (l1, l2: this machine; u1: refused SSH; a no_log task handled the value TOPSECRET-42).
const text = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'ansible', 'mixed.events.jsonl'), 'utf8');

function load(): EventLog {
  const log = new EventLog();
  for (const l of text.split('\n')) {
    const e = parseEventLine(l);
    if (e) log.add(e);
  }
  return log;
}

describe('callback events', () => {
  it('parses every line of a real run and ignores junk', () => {
    const lines = text.split('\n').filter((l) => l.trim());
    expect(lines.every((l) => parseEventLine(l) !== undefined)).toBe(true);
    expect(parseEventLine('not json')).toBeUndefined();
    expect(parseEventLine('{"event":"other"}')).toBeUndefined();
    expect(parseEventLine('[1,2]')).toBeUndefined();
    expect(parseEventLine('')).toBeUndefined();
  });

  it('gives the per-host recap of the run', () => {
    const log = load();
    expect(log.recap!.l1).toMatchObject({ ok: 6, changed: 1, failed: 0, ignored: 1, unreachable: 0 });
    expect(log.recap!.l2).toMatchObject({ failed: 1, ignored: 1 });
    expect(log.recap!.u1).toMatchObject({ ok: 0, unreachable: 1 });
    expect(log.plays).toEqual(['Mixed results']);
  });

  it('keeps data published with set_stats', () => {
    expect(load().custom).toEqual({ l1: { gr_test_endpoint: 'http://l1:1234' }, l2: { gr_test_endpoint: 'http://l2:1234' } });
  });

  it('lists failed and unreachable hosts with their task, ignored failures apart', () => {
    const log = load();
    const f = log.failures().map((r) => [r.host, r.task, r.status]);
    expect(f).toEqual([
      ['u1', 'Say hello', 'unreachable'],
      ['l2', 'Fail on the second host', 'failed'],
    ]);
    expect(log.failures({ includeIgnored: true })).toHaveLength(4);
  });

  it('explains a failed command with its exit code and stderr', () => {
    const r = load().failures().find((x) => x.host === 'l2')!;
    expect(failureLines(r)).toEqual(['exit code 3: the reason: disk full on l2', 'first line of stderr', 'the reason: disk full on l2']);
  });

  it('never contains the output of a no_log task', () => {
    expect(text).not.toContain('TOPSECRET-42');
    const secret = load().taskResults('Handle a secret');
    expect(secret).toHaveLength(2);
    expect(secret.every((r) => r.censored === true && r.result === undefined)).toBe(true);
  });

  it('bounds the explanation to the last lines', () => {
    const e: ResultEvent = {
      event: 'result', ts: 0, host: 'h', status: 'failed', task: 't', task_uuid: 'u', action: 'a', changed: false,
      result: { msg: 'boom', stderr: Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') },
    };
    const lines = failureLines(e, 20);
    expect(lines).toHaveLength(20);
    expect(lines[19]).toBe('line 49');
  });

  it('splits a stream into lines across chunk borders', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":')).toEqual([]);
    expect(s.push('1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n')).toEqual(['{"b":2}']);
    expect(s.flush()).toEqual([]);
  });
});

describe('progress lines', () => {
  it('shows the play, each task with its hosts by status, and failures at once', () => {
    const out: string[] = [];
    const p = new ProgressReporter((l) => out.push(l.replace(/\(\d+\.\ds\)/, '(T)')));
    for (const l of text.split('\n')) {
      const e = parseEventLine(l);
      if (e) p.handle(e);
    }
    p.finish();
    expect(out).toEqual([
      'play: Mixed results  [all]',
      '      u1 unreachable: Data could not be sent to remote host "127.0.0.1". Make sure this host can be reached over ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused',
      '  ✗ Say hello (T)  unreachable: u1  ok: 2',
      '  ✓ Change something (T)  changed: l1, l2',
      '  ✓ Handle a secret (T)  ok: 2',
      '      l2 failed (ignored): exit code 1',
      '      l1 failed (ignored): exit code 1',
      '  ✓ Fail but ignore it (T)  failed (ignored): l2, l1',
      '  ✓ Publish data (T)  ok: 2',
      '      l2 failed: exit code 3: the reason: disk full on l2',
      '  ✗ Fail on the second host (T)  failed: l2',
      '  ✓ Runs only where nothing failed (T)  ok: 1',
    ]);
  });
});
