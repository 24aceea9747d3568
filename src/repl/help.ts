import { UsageError } from '../core/errors.js';
import type { HelperDef } from './helpers/types.js';
import { indent } from './display.js';

const NOTES = [
  'Helpers return promises that the shell awaits for you; inside an expression, await them:',
  "  (await sh('worker', 'hostname')).map(r => r.stdout)",
  'Ctrl-C cancels the helper that is running (remote commands are killed) and returns to the prompt.',
  'Ctrl-D or .exit leaves the shell. Tab completes helpers, services, roles, hosts and cfg keys.',
];

/** `help()`: every helper with one line; `help(name)`: the helper's signature, details and examples. */
export function renderHelp(helpers: HelperDef[], name?: unknown): string {
  if (name === undefined) {
    const w = Math.max(...helpers.map((h) => h.signature.length));
    return [
      'helpers (help(name) for details):',
      ...helpers.map((h) => `  ${h.signature.padEnd(w)}  ${h.summary}`),
      '',
      ...NOTES,
    ].join('\n');
  }
  const key = typeof name === 'function' ? name.name : name;
  const h = helpers.find((x) => x.name === key);
  if (!h) {
    throw new UsageError('repl.unknown_helper', `help(name): no helper named ${JSON.stringify(key)}; helpers: ${helpers.map((x) => x.name).join(', ')}`);
  }
  return [
    `${h.signature} — ${h.summary}`,
    '',
    ...h.details.map((l) => indent(l)),
    ...(h.examples.length ? ['', 'examples:', ...h.examples.map((e) => `  ${e}`)] : []),
  ].join('\n');
}
