/**
 * A run's record from start to end: written `running` when the run starts, rewritten atomically as
 * it goes, finished `completed`, `failed` or `aborted` (Ctrl-C). A process that exits while a run is
 * still open (a second Ctrl-C: the front calls process.exit(130)) finishes it `aborted` on the way
 * out, synchronously, so no record stays `running`.
 */
import { mkdirSync } from 'node:fs';
import { InterruptedError, errorMessage, isGreenraceError } from '../core/errors.js';
import { appendRunCsv, runDir, saveRunRecord, type CampaignTag, type RunRecord, type RunStatus } from '../runs/record.js';
import type { CsvSpec, RunHandle } from '../workloads/contract.js';

const open = new Set<LiveRun>();
let exitHooked = false;

/** On exit, every run still open is saved `aborted` (the second Ctrl-C leaves at once, its record does not stay `running`). */
function finishOpenRunsOnExit(): void {
  for (const r of open) {
    r.record.status = 'aborted';
    r.record.endedAt = new Date().toISOString();
    r.record.error ??= { code: 'run.interrupted', message: 'the process was stopped (second Ctrl-C) before the run finished' };
    try {
      saveRunRecord(r.record);
    } catch {
      /* the folder is gone: nothing left to save */
    }
  }
  open.clear();
}

export class LiveRun implements RunHandle {
  readonly id: string;
  readonly dir: string;
  readonly record: RunRecord;

  constructor(experiment: string, workload: string, id: string, parameters: Record<string, unknown>, campaign?: CampaignTag) {
    this.id = id;
    this.dir = runDir(experiment, id);
    mkdirSync(this.dir, { recursive: true });
    this.record = { schema: 'greenrace.run/1', id, experiment, workload, status: 'running', startedAt: new Date().toISOString(), parameters, ...(campaign ? { campaign: { ...campaign } } : {}) };
    this.save();
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', finishOpenRunsOnExit);
    }
  }

  save(): void {
    saveRunRecord(this.record);
  }

  /** The final status and error from what ended the run; saved; the CSV line per `csv`. Idempotent. */
  finish(error: unknown, csv: CsvSpec | undefined, aborted: boolean): void {
    if (!open.has(this)) return;
    const rec = this.record;
    rec.endedAt = new Date().toISOString();
    rec.status = statusOf(error, aborted);
    if (error !== undefined && !rec.error) rec.error = { code: isGreenraceError(error) ? error.code : 'internal', message: errorMessage(error) };
    this.save();
    open.delete(this);
    if (csv && (csv.when === 'always' || rec.status === 'completed')) appendRunCsv(rec.experiment, rec.workload, csv.row(rec));
  }
}

export function statusOf(error: unknown, aborted: boolean): RunStatus {
  if (error === undefined) return 'completed';
  return error instanceof InterruptedError || aborted ? 'aborted' : 'failed';
}

/** Runs not finished yet (for tests and diagnostics). */
export const openRuns = (): number => open.size;
