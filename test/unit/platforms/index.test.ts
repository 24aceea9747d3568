/**
 * The platform registry: every kind comes from src/platforms/registry.ts, and everything that lists
 * kinds (the config section, the CLI's --platform choices, killjob's release loop, energy sources,
 * cross-checks) derives from it; no file outside a platform's folder names a kind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerSetup } from '../../../src/cli/commands/setup.js';
import { experimentSchema } from '../../../src/experiment/schema.js';
import { PlatformError } from '../../../src/core/errors.js';
import { DEFAULT_PLATFORM, PLATFORM_KINDS, platformEnergySources, platformFor, platformModule } from '../../../src/platforms/index.js';
import { PLATFORMS } from '../../../src/platforms/registry.js';
import { crossCheckPlatform } from '../../../src/platforms/section.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SRC = join(ROOT, 'src');
const FILES = ['schema.ts', 'plan.ts', 'reserve.ts', 'status.ts', 'release.ts', 'energy.ts', 'index.ts'];

function walk(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
}

describe('platform registry', () => {
  it('lists local, static and g5k, local first (the default); each module is its folder with the same files', async () => {
    expect(PLATFORM_KINDS).toEqual(Object.keys(PLATFORMS));
    expect(PLATFORM_KINDS).toEqual(['local', 'static', 'g5k']);
    expect(DEFAULT_PLATFORM).toBe('local');
    for (const kind of PLATFORM_KINDS) {
      const m = await platformModule(kind);
      expect(m.kind).toBe(kind);
      expect(m.description.length).toBeGreaterThan(10);
      const present = readdirSync(join(SRC, 'platforms', kind));
      expect(FILES.filter((f) => !present.includes(f)), `src/platforms/${kind}/`).toEqual([]);
      expect((await platformFor(kind)).kind).toBe(kind);
    }
  });

  it('refuses a kind it does not know with a PlatformError naming the known ones', async () => {
    await expect(platformFor('nope' as never)).rejects.toBeInstanceOf(PlatformError);
    await expect(platformFor('nope' as never)).rejects.toThrow(/platform "nope" is not available in this build \(known: local, static, g5k\)/);
  });

  it("the experiment's platform section has kind and one key per platform, from the registry", () => {
    const e = experimentSchema.parse({ name: 'regtest' });
    expect(e.platform.kind).toBe(DEFAULT_PLATFORM);
    expect(e.platform.local).toEqual({});
    expect(e.platform.static).toEqual({ check_reachability: true, connect_timeout: 5 });
    expect(e.platform.g5k).toBeUndefined();
    const bad = experimentSchema.safeParse({ name: 'regtest', platform: { kind: 'cloud' } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/local.*static.*g5k/);
    const unknownKey = experimentSchema.safeParse({ name: 'regtest', platform: { cloud: {} } });
    expect(unknownKey.success).toBe(false);
  });

  it("each platform checks its own section, with the full key in the message, only when it is the experiment's platform", () => {
    const fails: string[] = [];
    const fail = (path: string, msg: string): never => {
      fails.push(`${path}: ${msg}`);
      throw new Error('stop');
    };
    const check = (platform: Record<string, unknown>): void => {
      try {
        crossCheckPlatform(experimentSchema.parse({ name: 'regtest', platform }).platform, fail);
      } catch {
        /* recorded */
      }
    };
    check({ kind: 'static' });
    check({ kind: 'g5k' });
    check({ kind: 'g5k', g5k: { cluster: 'paravance' } });
    check({ kind: 'local', g5k: {} });
    expect(fails).toEqual([
      'platform.static.inventory: the static platform needs an inventory file (or --inventory FILE)',
      'platform.g5k: the g5k platform needs a site or a cluster',
    ]);
  });

  it("setup's --platform choices are the registry's kinds", () => {
    const program = new Command();
    registerSetup(program);
    const setup = program.commands.find((c) => c.name() === 'setup')!;
    const opt = setup.options.find((o) => o.long === '--platform')!;
    expect(opt.argChoices).toEqual(PLATFORM_KINDS);
  });

  it('local and static offer no energy source of their own; g5k offers kwollect', async () => {
    const section = experimentSchema.parse({ name: 'regtest' }).platform;
    const handle = (kind: 'local' | 'static' | 'g5k') => ({ kind, data: {}, hosts: [], dataDirs: {}, sharedFilesystem: false });
    expect(await platformEnergySources(handle('local'), section)).toEqual({});
    expect(await platformEnergySources(handle('static'), section)).toEqual({});
    const g = await platformEnergySources(handle('g5k'), section);
    expect(Object.keys(g)).toEqual(['kwollect']);
    expect(g.kwollect!.name).toBe('kwollect');
  });

  it('no file outside a platform folder and the registry names a platform kind as a string', () => {
    const kinds = PLATFORM_KINDS.join('|');
    const literal = new RegExp(`(['"\`])(${kinds})\\1`);
    const hits: string[] = [];
    for (const f of walk(SRC).filter((x) => x.endsWith('.ts'))) {
      const rel = relative(SRC, f);
      if (PLATFORM_KINDS.some((k) => rel.startsWith(`platforms/${k}/`)) || rel === 'platforms/registry.ts') continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (literal.test(line)) hits.push(`src/${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    // `--cluster` (platform.g5k.cluster, implies --platform g5k) is the one platform flag the CLI still names.
    expect(hits.filter((h) => !h.startsWith('src/cli/commands/setup.ts'))).toEqual([]);
  });
});
