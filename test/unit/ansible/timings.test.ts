import { describe, expect, it } from 'vitest';
import type { AnsibleEvent } from '../../../src/ansible/events.js';
import { formatTimings, playbookTimings, slowestTasks } from '../../../src/ansible/timings.js';

// A run as the callback writes it: two plays, a task that runs twice (an included role), a task
// every host skipped, per-host durations on the results.
const ev = (e: Partial<AnsibleEvent> & { event: AnsibleEvent['event']; ts: number }): AnsibleEvent => e as AnsibleEvent;
const res = (ts: number, task: string, uuid: string, host: string, status: 'ok' | 'skipped' | 'failed', duration: number, changed = false): AnsibleEvent =>
  ev({ event: 'result', ts, task, task_uuid: uuid, host, status, duration, changed, action: 'x' });
const events: AnsibleEvent[] = [
  ev({ event: 'playbook_start', ts: 100 }),
  ev({ event: 'play_start', ts: 100.5, name: 'Facts', pattern: 'all' }),
  ev({ event: 'task_start', ts: 100.5, name: 'Gather facts', uuid: 'a', action: 'setup', handler: false }),
  res(101.4, 'Gather facts', 'a', 'h1', 'ok', 0.8),
  res(101.9, 'Gather facts', 'a', 'h2', 'ok', 1.3),
  ev({ event: 'play_start', ts: 102, name: 'Deploy kafka', pattern: 'broker' }),
  ev({ event: 'task_start', ts: 102, name: 'supervise : Start', uuid: 'b', action: 'shell', handler: false }),
  res(104, 'supervise : Start', 'b', 'h2', 'ok', 2, true),
  ev({ event: 'task_start', ts: 104.2, name: 'kafka : Skipped everywhere', uuid: 'c', action: 'shell', handler: false }),
  res(104.3, 'kafka : Skipped everywhere', 'c', 'h2', 'skipped', 0.05),
  ev({ event: 'task_start', ts: 104.4, name: 'supervise : Start', uuid: 'd', action: 'shell', handler: false }),
  res(109, 'supervise : Start', 'd', 'h2', 'ok', 4.5),
  ev({ event: 'stats', ts: 110, hosts: {}, custom: {} }),
];

describe('playbook timings', () => {
  it('charges each task the time until the next task, play or recap, so the tasks add up to the run', () => {
    const t = playbookTimings(events);
    expect(t.totalSeconds).toBe(10);
    const sum = t.tasks.reduce((a, x) => a + x.seconds, 0);
    expect(sum).toBeCloseTo(110 - 100.5, 6);
    expect(t.plays).toEqual([
      { play: 'Facts', seconds: 1.5 },
      { play: 'Deploy kafka', seconds: 8 },
    ]);
  });

  it('merges the runs of one task in a play, counts hosts that ran it and names the slowest host', () => {
    const t = playbookTimings(events);
    const start = t.tasks.find((x) => x.task === 'supervise : Start')!;
    expect(start).toMatchObject({ play: 'Deploy kafka', runs: 2, hosts: 2, changed: 1, slowest: { host: 'h2', seconds: 4.5 } });
    expect(start.seconds).toBeCloseTo(2.2 + 5.6, 6);
    expect(t.tasks.find((x) => x.task === 'kafka : Skipped everywhere')).toMatchObject({ hosts: 0, runs: 1 });
    expect(slowestTasks(t, 2).map((x) => x.task)).toEqual(['supervise : Start', 'Gather facts']);
  });

  it('formats the slowest tasks with their play, runs, hosts and slowest host', () => {
    const lines = formatTimings('setup', playbookTimings(events), 2);
    expect(lines[0]).toBe('slowest tasks of setup (3 tasks, 10.0 s from the first play to the recap):');
    expect(lines[1]).toBe('    7.8 s  Deploy kafka › supervise : Start ×2  (2 hosts, 1 changed; h2 4.5 s)');
    expect(lines[2]).toBe('    1.5 s  Facts › Gather facts  (2 hosts; h2 1.3 s)');
    expect(lines[3]).toBe('  by play: Deploy kafka 8.0 s, Facts 1.5 s');
  });

  it('ends an interrupted run (no recap) at its last event', () => {
    const t = playbookTimings(events.slice(0, 8));
    expect(t.totalSeconds).toBe(4);
    expect(t.tasks.find((x) => x.task === 'supervise : Start')!.seconds).toBe(2);
  });
});
