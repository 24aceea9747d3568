import type { AnsibleEvent, ResultEvent } from './events.js';
import { failureLines } from './events.js';

/**
 * Turns callback events into short progress lines:
 *   play: Gather facts and metadata  [all]
 *     ✓ Gather facts (1.3s)  ok: 5
 *     ✓ Start exporter (0.6s)  changed: gr-a1-1, gr-a1-2  ok: 3
 *     ✗ Install kafka (2.0s)  failed: gr-a1-2  ok: 1
 *         gr-a1-2: No package matching 'kafka' is available
 * A task's line is printed when the next task (or play, or the recap) starts; failures are
 * printed at once. `verbose` prints every host's result as it arrives.
 */
export class ProgressReporter {
  private pendingPlay: string | undefined;
  private task: { name: string; ts: number; results: ResultEvent[] } | undefined;

  constructor(
    private readonly out: (line: string) => void,
    private readonly verbose = false,
  ) {}

  handle(e: AnsibleEvent): void {
    switch (e.event) {
      case 'play_start':
        this.closeTask(e.ts);
        this.pendingPlay = `play: ${e.name}${e.pattern ? `  [${e.pattern}]` : ''}`;
        break;
      case 'no_hosts':
        this.pendingPlay = undefined;
        break;
      case 'task_start':
        this.closeTask(e.ts);
        if (this.pendingPlay) {
          this.out(this.pendingPlay);
          this.pendingPlay = undefined;
        }
        this.task = { name: e.name, ts: e.ts, results: [] };
        break;
      case 'result':
        if (this.task) this.task.results.push(e);
        if (this.verbose) this.out(`      ${e.host}: ${e.status}${e.changed ? ' (changed)' : ''}`);
        if (e.status === 'failed' || e.status === 'unreachable') {
          const first = failureLines(e, 3);
          const what = e.status === 'unreachable' ? 'unreachable' : e.ignored ? 'failed (ignored)' : e.rescued ? 'failed (handled by its rescue)' : 'failed';
          this.out(`      ${e.host} ${what}: ${first[0] ?? '(no message)'}`);
        }
        break;
      case 'stats':
        this.closeTask(e.ts);
        break;
      default:
        break;
    }
  }

  /** Print the last task if the run ended without a recap (interrupted, crashed). */
  finish(now = Date.now() / 1000): void {
    this.closeTask(now);
  }

  private closeTask(now: number): void {
    const t = this.task;
    this.task = undefined;
    if (!t) return;
    const by = (pred: (r: ResultEvent) => boolean): string[] => [...new Set(t.results.filter(pred).map((r) => r.host))];
    const failed = by((r) => r.status === 'failed' && !r.ignored && !r.rescued);
    const rescued = by((r) => r.status === 'failed' && Boolean(r.rescued));
    const unreachable = by((r) => r.status === 'unreachable');
    const ignored = by((r) => r.status === 'failed' && Boolean(r.ignored));
    const changed = by((r) => r.status === 'ok' && r.changed);
    const ok = by((r) => r.status === 'ok' && !r.changed);
    const skipped = by((r) => r.status === 'skipped');
    if (t.results.length === 0) return; // a task every host skipped silently (include, meta)
    if (skipped.length === t.results.length) return;
    const mark = failed.length || unreachable.length ? '✗' : '✓';
    const secs = Math.max(0, now - t.ts).toFixed(1);
    const parts: string[] = [];
    if (failed.length) parts.push(`failed: ${failed.join(', ')}`);
    if (unreachable.length) parts.push(`unreachable: ${unreachable.join(', ')}`);
    if (ignored.length) parts.push(`failed (ignored): ${ignored.join(', ')}`);
    if (rescued.length) parts.push(`failed (handled by its rescue): ${rescued.join(', ')}`);
    if (changed.length) parts.push(`changed: ${changed.length > 6 ? changed.length : changed.join(', ')}`);
    if (ok.length) parts.push(`ok: ${ok.length}`);
    this.out(`  ${mark} ${t.name} (${secs}s)  ${parts.join('  ')}`);
  }
}
