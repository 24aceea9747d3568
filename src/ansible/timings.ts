/**
 * Where a playbook's time went, from the callback's events alone: each task's wall time (from its
 * start to the start of whatever came next: the next task, play or the recap, so the figures add up
 * to the run), the hosts it ran on and the slowest host's own duration (the callback's per-host
 * `duration`). Used for the "slowest tasks" summary in a run's log and `setup --timings`.
 */
import type { AnsibleEvent } from './events.js';

export interface TaskTiming {
  play: string;
  task: string;
  /** Wall seconds of the task (summed over its runs when the same task ran more than once in a play). */
  seconds: number;
  /** How many times it started in this play (an included role's task may run once per include). */
  runs: number;
  /** Hosts that ran it (ok, changed or failed; not the ones that skipped it). */
  hosts: number;
  changed: number;
  /** The host that took longest, with its own duration (seconds from its start of the task to its result). */
  slowest?: { host: string; seconds: number };
}

export interface PlaybookTimings {
  /** From the playbook's start to its recap (or to the last event when there is none). */
  totalSeconds: number;
  /** Every task, in the order they first started. */
  tasks: TaskTiming[];
  /** Seconds per play, in order. */
  plays: Array<{ play: string; seconds: number }>;
}

export function playbookTimings(events: readonly AnsibleEvent[]): PlaybookTimings {
  const tasks = new Map<string, TaskTiming>();
  const plays: Array<{ play: string; seconds: number }> = [];
  let play = '';
  let playStart: number | undefined;
  let current: { key: string; ts: number } | undefined;
  const byUuid = new Map<string, TaskTiming>();
  const first = events[0]?.ts;
  const last = events.at(-1)?.ts;

  const close = (ts: number): void => {
    if (current) tasks.get(current.key)!.seconds += Math.max(0, ts - current.ts);
    current = undefined;
  };
  const closePlay = (ts: number): void => {
    if (playStart !== undefined) plays.push({ play, seconds: Math.max(0, ts - playStart) });
    playStart = undefined;
  };

  for (const e of events) {
    switch (e.event) {
      case 'play_start':
        close(e.ts);
        closePlay(e.ts);
        play = e.name;
        playStart = e.ts;
        break;
      case 'task_start': {
        close(e.ts);
        const key = `${play}\u0000${e.name}`;
        const t = tasks.get(key) ?? { play, task: e.name, seconds: 0, runs: 0, hosts: 0, changed: 0 };
        t.runs++;
        tasks.set(key, t);
        byUuid.set(e.uuid, t);
        current = { key, ts: e.ts };
        break;
      }
      case 'result': {
        // By uuid: under the free strategy results of a task can arrive after the next one started.
        const t = byUuid.get(e.task_uuid);
        if (!t) break;
        if (e.status !== 'skipped') t.hosts++;
        if (e.changed) t.changed++;
        if (e.duration !== undefined && (!t.slowest || e.duration > t.slowest.seconds)) t.slowest = { host: e.host, seconds: e.duration };
        break;
      }
      case 'stats':
        close(e.ts);
        closePlay(e.ts);
        break;
      default:
        break;
    }
  }
  if (last !== undefined) {
    close(last);
    closePlay(last);
  }
  const round = (n: number): number => Math.round(n * 1000) / 1000;
  return {
    totalSeconds: first !== undefined && last !== undefined ? round(last - first) : 0,
    tasks: [...tasks.values()].map((t) => ({ ...t, seconds: round(t.seconds) })),
    plays: plays.map((p) => ({ ...p, seconds: round(p.seconds) })),
  };
}

/** The `n` tasks that took the most wall time, slowest first. */
export function slowestTasks(t: PlaybookTimings, n = 10): TaskTiming[] {
  return [...t.tasks].sort((a, b) => b.seconds - a.seconds).slice(0, n);
}

/**
 * Lines for a terminal or a log:
 *   slowest tasks of setup (42 tasks, 31.2 s from the first play to the recap):
 *      8.1 s  Deploy kafka › kafka : Wait for the brokers  (1 host; broker-1 8.0 s)
 */
export function formatTimings(name: string, t: PlaybookTimings, n = 10): string[] {
  const out = [`slowest tasks of ${name} (${t.tasks.length} tasks, ${t.totalSeconds.toFixed(1)} s from the first play to the recap):`];
  for (const x of slowestTasks(t, n)) {
    const runs = x.runs > 1 ? ` ×${x.runs}` : '';
    const hosts = `${x.hosts} host${x.hosts === 1 ? '' : 's'}${x.changed ? `, ${x.changed} changed` : ''}`;
    const slow = x.slowest ? `; ${x.slowest.host} ${x.slowest.seconds.toFixed(1)} s` : '';
    out.push(`  ${x.seconds.toFixed(1).padStart(5)} s  ${x.play} › ${x.task}${runs}  (${hosts}${slow})`);
  }
  const plays = [...t.plays].filter((p) => p.seconds >= 0.05).sort((a, b) => b.seconds - a.seconds);
  if (plays.length) out.push(`  by play: ${plays.map((p) => `${p.play} ${p.seconds.toFixed(1)} s`).join(', ')}`);
  return out;
}
