import type { RunRecord } from '../../app/query.js';
import { energySummaryRows } from '../../app/energy-summary.js';
import { FLAGS, TOOL_CHOICES } from '../../app/flags.js';
import { argError, type Session } from '../session.js';
import { describe } from '../overrides.js';
import { withView } from '../display.js';
import type { HelperDef } from './types.js';

const isPlain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The shell's current overrides (command line + loadConfig) as `--set` expressions for the app layer. */
export function sessionSet(s: Session): string[] {
  const overrides = [...(s.cliLoad.overrides ?? []), ...s.extra];
  return [...(s.cliLoad.set ?? []), ...overrides.map((o) => `${o.path}=${JSON.stringify(o.value)}`)];
}

function recordView(rec: RunRecord, extra: string[] = []): RunRecord {
  return withView(rec, () => {
    const lines = [`run ${rec.id} (${rec.workload}): ${rec.status}${rec.error ? ` — [${rec.error.code}] ${rec.error.message}` : ''}`];
    if (rec.window) lines.push(`window: ${new Date(rec.window.start * 1000).toISOString()} → ${new Date(rec.window.end * 1000).toISOString()} (${Math.round(rec.window.end - rec.window.start)} s)`);
    if (rec.results) {
      for (const [k, v] of Object.entries(rec.results)) {
        if (v === null || typeof v !== 'object') lines.push(`  ${k}: ${String(v)}`);
      }
    }
    if (rec.energy) {
      const w = rec.window;
      for (const [k, v] of energySummaryRows(rec.energy, { experiment: rec.experiment, ...(w ? { seconds: w.end - w.start } : {}) })) lines.push(`${k}: ${v}`);
    }
    return [...lines, ...extra, 'the whole record: last (or JSON.stringify(last, null, 2))'].join('\n');
  });
}

const INGEST_KEYS = FLAGS.ingest.map((f) => f.name);

export const ingest: HelperDef = {
  name: 'ingest',
  kind: 'function',
  signature: 'ingest(params?)',
  summary: 'an ingest run (as `entrypoint ingest`), with the shell\'s overrides; returns the run record',
  details: [
    `params: { ${INGEST_KEYS.join(', ')} } — the flags of \`entrypoint ingest\`, applied over the shell's`,
    'configuration (command-line overrides and loadConfig). Progress is printed; the record is saved',
    'under results/<exp>/<run-id>/ and becomes `last`. Ctrl-C stops the run (generators stopped, topic',
    'deleted) and returns to the prompt.',
  ],
  examples: ['ingest()', 'ingest({ load: 20000, message_size: 512 })', 'last.results'],
  make: (s: Session) =>
    function ingest(params: unknown = {}) {
      const sig = 'ingest(params?)';
      if (!isPlain(params)) throw argError(sig, `params must be an object like { load: 5000 } (got ${describe(params)})`);
      const bad = Object.keys(params).filter((k) => !INGEST_KEYS.includes(k));
      if (bad.length) throw argError(sig, `unknown parameter ${bad.join(', ')} (allowed: ${INGEST_KEYS.join(', ')}; other keys: loadConfig({ 'ingest.<key>': value }))`);
      return s.task(async (signal) => {
        const { runIngest } = await import('../../app/ingest.js');
        const out = await runIngest({
          experiment: s.loaded.files[0] ?? s.exp,
          flags: params,
          set: sessionSet(s),
          progress: (l) => s.print(l),
          signal,
        });
        s.lastRun = out.record;
        return recordView(out.record, [`record: ${out.recordPath}`]);
      });
    },
};

export const race: HelperDef = {
  name: 'race',
  kind: 'function',
  signature: 'race(file, params?)',
  summary: 'run a racefile (as `entrypoint race`) on the cluster; returns the run record',
  details: [
    'file: a racefile (YAML, may be a Nunjucks template). params: { name: value } for its template.',
    "The shell's overrides apply. The record becomes `last`. Ctrl-C stops the race and its processes.",
  ],
  examples: ["race('templates/races/static-http.yaml', { connections: 64 })"],
  make: (s: Session) =>
    function race(file: unknown, params: unknown = {}) {
      const sig = 'race(file, params?)';
      if (typeof file !== 'string' || file === '') throw argError(sig, `file must be the path of a racefile (got ${describe(file)})`);
      if (!isPlain(params)) throw argError(sig, `params must be an object like { connections: 64 } (got ${describe(params)})`);
      return s.task(async (signal) => {
        const { race: appRace } = await import('../../app/race.js');
        const out = await appRace({
          racefile: file,
          exp: s.loaded.files[0] ?? s.exp,
          params: Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`),
          set: sessionSet(s),
          signal,
          progress: (l) => s.print(l),
        });
        s.lastRun = out.record;
        return recordView(out.record, [`folder: ${out.dir}`]);
      });
    },
};

export const net: HelperDef = {
  name: 'net',
  kind: 'function',
  signature: 'net(params?)',
  summary: 'a network benchmark between two hosts (as `entrypoint net`); returns the run record',
  details: [
    `params: { tool: ${TOOL_CHOICES.net.map((t) => `'${t}'`).join(' | ')}, ...keys of the net section } applied`,
    "over the shell's configuration. The record becomes `last`. Ctrl-C stops the client and server.",
  ],
  examples: ['net()', "net({ tool: 'sockperf' })"],
  make: (s: Session) =>
    function net(params: unknown = {}) {
      const sig = 'net(params?)';
      if (!isPlain(params)) throw argError(sig, `params must be an object like { tool: 'iperf3' } (got ${describe(params)})`);
      const { tool, ...rest } = params as { tool?: unknown } & Record<string, unknown>;
      if (tool !== undefined && !(TOOL_CHOICES.net as readonly unknown[]).includes(tool)) {
        throw argError(sig, `tool must be one of ${TOOL_CHOICES.net.join(', ')} (got ${describe(tool)})`);
      }
      return s.task(async (signal) => {
        const { runNet } = await import('../../app/net.js');
        const out = await runNet({
          exp: s.loaded.files[0] ?? s.exp,
          set: [...sessionSet(s), ...Object.entries(rest).map(([k, v]) => `net.${k}=${JSON.stringify(v)}`)],
          ...(tool !== undefined ? { tool: tool as string } : {}),
          signal,
          progress: (l) => s.print(l),
        });
        s.lastRun = out.record;
        return recordView(out.record, [`folder: ${out.dir}`]);
      });
    },
};
