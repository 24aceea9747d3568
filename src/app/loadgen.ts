/**
 * Use case `entrypoint loadgen`: run one generator instance from a plan (the ingest hand-off) or
 * from flags, write its summary, and say how it went.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InterruptedError, RunError, UsageError } from '../core/errors.js';
import { runGenerator, type RunIO } from '../loadgen/driver.js';
import { DRIVERS } from '../loadgen/drivers.js';
import { instanceSettings, readPlan, type GeneratorSettings, type LoadgenPlan } from '../loadgen/plan.js';
import { serveGenerator } from '../loadgen/serve.js';
import { summaryLine, writeSummary, type LoadgenSummary } from '../loadgen/summary.js';

/** How to read generator latency figures (what they are measured from, and any backlog in them). */
export { describeLatency } from '../loadgen/summary.js';

export interface LoadgenRequest {
  /** `--plan <file>`, or a plan built from flags. */
  plan: { file: string } | { plan: LoadgenPlan };
  /** Instance to run (the plan's only one when absent and it has one). */
  instance?: string;
  /** Where the summary goes (wins over the plan entry's); stdout when neither says. */
  summary?: string;
  io: RunIO & { out?: (text: string) => void; err?: (text: string) => void };
  /**
   * Keep the generator up after its run (loadgen/serve.ts): it takes each next run's plan on its
   * control port (POST /plan) and runs it with the same connections, until stopped. Plan files only.
   */
  serve?: boolean;
}

export async function runLoadgenInstance(req: LoadgenRequest): Promise<LoadgenSummary> {
  const source = 'file' in req.plan ? req.plan.file : 'the flags';
  const plan = 'file' in req.plan ? readPlan(req.plan.file) : req.plan.plan;
  const id = req.instance ?? (plan.generators.length === 1 ? plan.generators[0]!.id : undefined);
  if (id === undefined)
    throw new UsageError('loadgen.no_instance', `${source}: the plan has ${plan.generators.length} generators: say which one with --instance <id>`);
  const settings = instanceSettings(plan, id, source);
  if (req.serve) return serve(req, settings);
  const summary = await runGenerator(settings, await DRIVERS[settings.driver.name].create(), req.io);
  writeSummary(summary, req.summary ?? settings.summary, req.io.out);
  (req.io.err ?? ((t: string) => void process.stderr.write(t)))(`[${settings.instance}] ${summaryLine(summary)}\n`);
  if (summary.status === 'aborted') throw new InterruptedError('load generator stopped by a signal; partial summary written');
  if (summary.status === 'failed') throw new RunError(summary.error?.code ?? 'loadgen.failed', summary.error?.message ?? 'load generator failed');
  return summary;
}

/** A kept-up generator: each run's summary written and said as a single generator's; the last run's returned. */
async function serve(req: LoadgenRequest, first: GeneratorSettings): Promise<LoadgenSummary> {
  if (!('file' in req.plan)) throw new UsageError('loadgen.serve_usage', '--serve takes a plan file (--plan <plan.json>)');
  let last: LoadgenSummary | undefined;
  // The first run's lines go where the process's output goes; each later run's also to
  // loadgen-<id>.log beside its summary (where a started generator's log would be).
  let runLog: string | undefined;
  const toRunLog = (text: string): void => {
    try {
      if (runLog) {
        mkdirSync(dirname(runLog), { recursive: true });
        appendFileSync(runLog, text);
      }
    } catch {
      runLog = undefined; // a log that cannot be written does not stop the run
    }
  };
  const err = req.io.err ?? ((t: string) => void process.stderr.write(t));
  const served = await serveGenerator(first, (s) => DRIVERS[s.driver.name].create(), {
    ...req.io,
    onRun: (s, n) => {
      runLog = n > 1 && s.summary ? join(dirname(s.summary), `loadgen-${s.instance}.log`) : undefined;
    },
    ...(req.io.log ? { log: (l: string) => (req.io.log!(l), toRunLog(`[${first.instance}] ${l}\n`)) } : {}),
    finished: (summary, s) => {
      last = summary;
      writeSummary(summary, s === first ? (req.summary ?? s.summary) : s.summary, req.io.out);
      const line = `[${s.instance}] ${summaryLine(summary)}\n`;
      err(line);
      toRunLog(line);
    },
  });
  if (served.stoppedInRun) throw new InterruptedError('load generator stopped by a signal during a run; partial summary written');
  return last!;
}
