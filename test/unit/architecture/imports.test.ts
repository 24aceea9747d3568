/**
 * Imports only point down (docs/architecture.md): a module imports from its own folder or from a
 * lower floor; siblings on one floor never import each other; inside a plug-in family one plug-in
 * does not import another (but for the family's shared parts). Every offending import is listed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../../src');

/** The floors, bottom to top (the table of docs/architecture.md). */
export const FLOORS: Record<string, number> = {
  core: 0,
  config: 1,
  ansible: 2,
  remote: 2,
  metrics: 3,
  runs: 3,
  campaigns: 3,
  runtimes: 3,
  loadgen: 3,
  platforms: 4,
  services: 4,
  workloads: 4,
  experiment: 5,
  app: 6,
  cli: 7,
  repl: 7,
};

/** Plug-in families: `<family>/<plugin>/…` may not import another plug-in of the family, but these shared parts. */
const FAMILIES: Record<string, string[]> = {
  workloads: ['workloads/contract.ts', 'workloads/net/tools/', 'workloads/net/schema.ts'],
  platforms: ['platforms/platform.ts', 'platforms/registry.ts', 'platforms/types.ts'],
  services: [],
};

/**
 * The fronts go through app: besides their own folder they import app and core (and config's
 * generic helpers); cli's `i` command opens the other front, the shell.
 */
const FRONTS: Record<string, string[]> = { cli: ['app', 'core', 'config'], repl: ['app', 'core', 'config'] };
/** The one sideways import allowed: the CLI's `i` command starts the shell through its entry. */
const OPENS_THE_SHELL = { from: 'cli/commands/i.ts', to: 'repl/shell.ts' };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

/** Relative specifiers of a module: static imports and exports, `import()` and `import type`. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push((m[1] ?? m[2])!);
  return out;
}

export interface Offence {
  from: string;
  to: string;
  why: string;
}

const top = (p: string): string => p.split('/')[0]!;

/** Why `from` (a path under src/) may not import `to`, or undefined when it may. */
export function offence(from: string, to: string): string | undefined {
  const a = top(from);
  const b = top(to);
  if (!from.includes('/') || !to.includes('/')) return undefined; // entry files at the top of src/ (none today)
  if (!(a in FLOORS)) return `${a}/ is on no floor: add it to the floors table (docs/architecture.md)`;
  if (!(b in FLOORS)) return `${b}/ is on no floor: add it to the floors table (docs/architecture.md)`;
  if (a === b) {
    const shared = FAMILIES[a];
    const pa = from.split('/')[1];
    const pb = to.split('/')[1];
    if (!shared || !from.includes('/', a.length + 1) || !to.includes('/', b.length + 1) || pa === pb) return undefined;
    if (shared.some((s) => to === s || (s.endsWith('/') && to.startsWith(s)))) return undefined;
    return `${a}/${pa} → ${b}/${pb}: one plug-in imports another`;
  }
  if (from === OPENS_THE_SHELL.from && to === OPENS_THE_SHELL.to) return undefined;
  if (FRONTS[a] && !FRONTS[a]!.includes(b)) return `${a} → ${b}: the fronts go through app`;
  if (FLOORS[b]! > FLOORS[a]!) return `${a} (floor ${FLOORS[a]}) → ${b} (floor ${FLOORS[b]}): upward`;
  if (FLOORS[b] === FLOORS[a]) return `${a} → ${b}: siblings on floor ${FLOORS[a]}`;
  return undefined;
}

function scan(): Offence[] {
  const out: Offence[] = [];
  for (const f of files(SRC)) {
    const from = relative(SRC, f);
    for (const spec of importsOf(readFileSync(f, 'utf8'))) {
      const to = relative(SRC, resolve(dirname(f), spec)).replace(/\.js$/, '.ts');
      if (to.startsWith('..')) continue;
      const why = offence(from, to);
      if (why) out.push({ from, to, why });
    }
  }
  return out;
}

describe('import direction (src/)', () => {
  it('finds the imports of a module, type-only and dynamic ones included', () => {
    expect(importsOf("import type { A } from '../a.js';\nexport { b } from './b.js';\nconst c = await import('../../c.js');\nimport 'node:fs';")).toEqual(['../a.js', './b.js', '../../c.js']);
  });

  it('flags upward, sideways, plug-in-to-plug-in and front-skipping imports, and allows the rest', () => {
    expect(offence('metrics/energy/account.ts', 'runs/record.ts')).toMatch(/siblings on floor 3/);
    expect(offence('config/loader.ts', 'experiment/schema.ts')).toMatch(/upward/);
    expect(offence('workloads/matrix/run.ts', 'workloads/race/run.ts')).toMatch(/one plug-in imports another/);
    expect(offence('cli/commands/loadgen.ts', 'loadgen/plan.ts')).toMatch(/fronts go through app/);
    expect(offence('workloads/matrix/run.ts', 'workloads/net/tools/registry.ts')).toBeUndefined();
    expect(offence('app/context.ts', 'workloads/contract.ts')).toBeUndefined();
    expect(offence('workloads/ingest/run.ts', 'core/types.ts')).toBeUndefined();
  });

  it('src/ has no import that points up or sideways', () => {
    const bad = scan();
    expect(bad.map((o) => `${o.from} → ${o.to} (${o.why})`)).toEqual([]);
  });
});
