import { InvalidArgumentError, type Command } from 'commander';
import { flagHelp, type FlagSpec } from '../app/flags.js';

export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function intOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`${name} must be a whole number (got "${v}")`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max} (got ${n})`);
    return n;
  };
}

export function numberOption(name: string, opts: { min?: number; exclusiveMin?: number; max?: number } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number (got "${v}")`);
    if (opts.exclusiveMin !== undefined && n <= opts.exclusiveMin) throw new InvalidArgumentError(`${name} must be greater than ${opts.exclusiveMin} (got ${n})`);
    if (opts.min !== undefined && n < opts.min) throw new InvalidArgumentError(`${name} must be at least ${opts.min} (got ${n})`);
    if (opts.max !== undefined && n > opts.max) throw new InvalidArgumentError(`${name} must be at most ${opts.max} (got ${n})`);
    return n;
  };
}

/** A workload flag's value as its kind reads it (the section's schema then checks its bounds). */
function flagParser(f: FlagSpec): ((v: string) => unknown) | undefined {
  const name = `--${f.name}`;
  if (f.kind === 'number')
    return (v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number (got "${v}")`);
      return n;
    };
  if (f.kind === 'integer')
    return (v) => {
      if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`${name} must be a whole number (got "${v}")`);
      return Number(v);
    };
  return undefined;
}

/** Register a workload's flags (src/workloads/<w>/flags.ts) as options of a command. */
export function addFlagOptions(cmd: Command, flags: readonly FlagSpec[], choices: Partial<Record<string, readonly string[]>> = {}): Command {
  for (const f of flags) {
    const extra = choices[f.name] ? ` (${choices[f.name]!.join(' | ')})` : '';
    const help = `${flagHelp(f)}${extra}`;
    const spec = f.kind === 'boolean' ? `--${f.name}` : `--${f.name} ${f.value ?? '<value>'}`;
    const parse = flagParser(f);
    if (parse) cmd.option(spec, help, parse);
    else cmd.option(spec, help);
  }
  return cmd;
}

/** The values of a workload's flags from a command's parsed options (by flag name). */
export function flagValues(flags: readonly FlagSpec[], opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of flags) {
    const key = f.name.replace(/[-_]([a-z])/g, (_m, c: string) => c.toUpperCase());
    const v = opts[f.name] ?? opts[key];
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}
