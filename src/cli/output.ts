import { GreenraceError, errorMessage } from '../core/errors.js';

const useColor = (): boolean => Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
export const red = (s: string): string => (useColor() ? `\x1b[31m${s}\x1b[0m` : s);
export const dim = (s: string): string => (useColor() ? `\x1b[2m${s}\x1b[0m` : s);
export const bold = (s: string): string => (useColor() ? `\x1b[1m${s}\x1b[0m` : s);
export const green = (s: string): string => (useColor() ? `\x1b[32m${s}\x1b[0m` : s);
export const yellow = (s: string): string => (useColor() ? `\x1b[33m${s}\x1b[0m` : s);

/** One clear message on stderr: no stack trace for errors the user can act on. */
export function printError(e: unknown): number {
  if (e instanceof GreenraceError) {
    process.stderr.write(`${red('error')} ${dim(`[${e.code}]`)} ${e.message}\n`);
    for (const d of e.details.slice(0, 20)) process.stderr.write(`  ${d}\n`);
    if (e.details.length > 20) process.stderr.write(dim(`  … ${e.details.length - 20} more lines`) + '\n');
    if (e.hint) process.stderr.write(`${dim('hint:')} ${e.hint}\n`);
    if (e.logFile) process.stderr.write(`${dim('full log:')} ${e.logFile}\n`);
    return e.exitCode;
  }
  // A bug, not a user error: say so, with the stack when asked for.
  process.stderr.write(`${red('internal error')} ${errorMessage(e)}\n`);
  if (process.env.GREENRACE_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  else process.stderr.write(dim('set GREENRACE_DEBUG=1 for the stack trace; please report it') + '\n');
  return 1;
}

/** A plain table with aligned columns. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
      .trimEnd();
  const out = all.map(fmt);
  if (header) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}
