import { InvalidArgumentError } from 'commander';

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
