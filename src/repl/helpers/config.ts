import { argError, type Session } from '../session.js';
import { describe, overridesFromObject } from '../overrides.js';
import { withView, fmtValue } from '../display.js';
import { readOnlyView } from '../readonly.js';
import type { HelperDef } from './types.js';

export const loadConfig: HelperDef = {
  name: 'loadConfig',
  kind: 'function',
  signature: 'loadConfig(name?, overrides?)',
  summary: 'reload (or switch) the experiment, apply overrides, validate, print what changed',
  details: [
    'name: another experiment (experiments/<name>.yaml); omitted: the current one, re-read from disk.',
    'overrides: { load: 5000, message_size: 512 } (the flags of `entrypoint i`), key paths',
    "  { 'kafka.partitions': 6 } or nested { ingest: { duration: '1m' } }. They replace the overrides of",
    '  the previous loadConfig call; the command-line overrides (--set, --load, ...) always apply.',
    'Validation is as strict as on the command line: a bad key or value is one message and the',
    'configuration stays as it was. Returns the list of changes ({path, from, to}).',
  ],
  examples: ["loadConfig({ load: 10000 })", "loadConfig('ingest-kafka', { 'ingest.duration': '1m' })", 'loadConfig()'],
  make: (s: Session) =>
    function loadConfig(name?: unknown, overrides?: unknown) {
      if (name !== undefined && name !== null && typeof name === 'object') {
        overrides = name;
        name = undefined;
      }
      if (name !== undefined && name !== null && (typeof name !== 'string' || name === '')) {
        throw argError('loadConfig(name?, overrides?)', `name must be an experiment name (got ${describe(name)})`);
      }
      const before = s.exp;
      const changes = s.reload((name as string | undefined) ?? undefined, overridesFromObject(overrides));
      const head = before !== s.exp ? `switched to ${s.exp} (${s.loaded.files[0]})` : `reloaded ${s.exp}`;
      return withView(changes, () => {
        if (changes.length === 0) return `${head}: no change`;
        const lines = changes.map((c) => `  ${c.path}: ${fmtValue(c.from)} → ${fmtValue(c.to)}`);
        return `${head}: ${changes.length} change${changes.length > 1 ? 's' : ''}\n${lines.join('\n')}`;
      });
    },
};

export const cfg: HelperDef = {
  name: 'cfg',
  kind: 'value',
  signature: 'cfg',
  summary: 'the effective configuration (read-only, secrets redacted)',
  details: [
    'The validated experiment with every override applied, as `entrypoint config <exp>` prints it.',
    'Read-only: change it with loadConfig({...}). Values under secret-looking keys and passwords in URLs',
    'are shown as ‹redacted›.',
  ],
  examples: ['cfg.ingest', 'cfg.roles.worker'],
  get: (s: Session) => readOnlyView(s.redactedConfig(), 'cfg'),
};

export const last: HelperDef = {
  name: 'last',
  kind: 'value',
  signature: 'last',
  summary: 'the last run record (results/<exp>/<run-id>/run.json)',
  details: ['The record of the latest run of this experiment: from this shell, or the newest on disk.', 'undefined when there is none yet.'],
  examples: ['last.results', 'energy(last)'],
  get: (s: Session) => (s.lastRun ? readOnlyView(s.lastRun, 'last') : undefined),
};
