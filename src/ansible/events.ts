/**
 * The events written by ansible/callback_plugins/greenrace_jsonl.py, one JSON object a line,
 * and the bookkeeping that turns them into a result (per-host recap, failures, task results).
 */

export type HostStatusKind = 'ok' | 'failed' | 'unreachable' | 'skipped';

export interface PlaybookStartEvent {
  event: 'playbook_start';
  ts: number;
  playbook: string | null;
}
export interface PlayStartEvent {
  event: 'play_start';
  ts: number;
  name: string;
  pattern: string;
}
export interface NoHostsEvent {
  event: 'no_hosts';
  ts: number;
}
export interface TaskStartEvent {
  event: 'task_start';
  ts: number;
  name: string;
  uuid: string;
  action: string;
  handler: boolean;
}
export interface ResultEvent {
  event: 'result';
  ts: number;
  host: string;
  status: HostStatusKind;
  task: string;
  task_uuid: string;
  action: string;
  changed: boolean;
  ignored?: boolean;
  /** The task failed inside a block whose rescue section handles it (the rescue decides). */
  rescued?: boolean;
  censored?: boolean;
  delegated_to?: string;
  /** Seconds from the host's start of the task (all items of a loop) to this result. */
  duration?: number;
  msg?: string;
  result?: Record<string, unknown>;
}
export interface HostRecap {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  skipped: number;
  rescued: number;
  ignored: number;
}
export interface StatsEvent {
  event: 'stats';
  ts: number;
  hosts: Record<string, HostRecap>;
  custom: Record<string, unknown>;
}

export type AnsibleEvent = PlaybookStartEvent | PlayStartEvent | NoHostsEvent | TaskStartEvent | ResultEvent | StatsEvent;

const KNOWN = new Set(['playbook_start', 'play_start', 'no_hosts', 'task_start', 'result', 'stats']);

/** Parse one line; undefined for blank, partial or unknown lines (never throws). */
export function parseEventLine(line: string): AnsibleEvent | undefined {
  const t = line.trim();
  if (t === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const e = v as { event?: unknown };
  if (typeof e.event !== 'string' || !KNOWN.has(e.event)) return undefined;
  return v as AnsibleEvent;
}

/** Splits a growing byte stream into complete lines (a partial last line waits for the rest). */
export class LineSplitter {
  private rest = '';
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines;
  }
  flush(): string[] {
    const r = this.rest;
    this.rest = '';
    return r === '' ? [] : [r];
  }
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(String).join('\n');
  return undefined;
}

function lastLine(s: string): string {
  const lines = s.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1] ?? '';
}

/** The lines that explain a failed or unreachable result: msg, stderr, module output (tail). */
export function failureLines(e: ResultEvent, max = 20): string[] {
  const r = e.result ?? {};
  const lines: string[] = [];
  const add = (s: string | undefined): void => {
    if (!s) return;
    for (const l of s.split('\n')) if (l.trim() !== '') lines.push(l.replace(/\s+$/, ''));
  };
  const msg = e.msg ?? asText(r.msg);
  const stderr = asText(r.stderr);
  if (msg === 'non-zero return code' && typeof r.rc === 'number') {
    // A command that failed: its stderr says why, the exit code is the summary.
    add(`exit code ${r.rc}${stderr ? `: ${lastLine(stderr)}` : ''}`);
  } else add(msg);
  const items = r.failed_items;
  if (Array.isArray(items)) {
    for (const it of items as Array<Record<string, unknown>>) {
      const label = it.item === undefined ? '' : `item ${typeof it.item === 'string' ? it.item : JSON.stringify(it.item)}: `;
      add(label + (asText(it.msg) ?? ''));
      add(asText(it.stderr));
    }
  }
  add(stderr);
  add(asText(r.module_stderr));
  if (lines.length === 0) add(asText(r.module_stdout) ?? asText(r.stdout) ?? asText(r.exception));
  const uniq = [...new Set(lines)];
  return uniq.length > max ? uniq.slice(uniq.length - max) : uniq;
}

/** Accumulates events into what a caller needs after the run. */
export class EventLog {
  readonly events: AnsibleEvent[] = [];
  readonly results: ResultEvent[] = [];
  recap: Record<string, HostRecap> | undefined;
  custom: Record<string, unknown> = {};
  plays: string[] = [];

  add(e: AnsibleEvent): void {
    this.events.push(e);
    if (e.event === 'result') this.results.push(e);
    else if (e.event === 'stats') {
      this.recap = e.hosts;
      this.custom = e.custom ?? {};
    } else if (e.event === 'play_start') this.plays.push(e.name);
  }

  /** Failed (not ignored, not rescued) and unreachable results, latest per host and task. */
  failures(opts: { includeIgnored?: boolean } = {}): ResultEvent[] {
    return this.results.filter(
      (r) => r.status === 'unreachable' || (r.status === 'failed' && !r.rescued && (opts.includeIgnored || !r.ignored)),
    );
  }

  /** Results of one task (by name), e.g. the metadata a role reported. */
  taskResults(task: string): ResultEvent[] {
    return this.results.filter((r) => r.task === task);
  }
}
