/**
 * The `platform` section of an experiment, assembled from the registry: `kind` (one of the registered
 * kinds, default the first) and one key per platform holding that platform's own section. Also the
 * platform's cross-check, run by the experiment's cross-checks.
 *
 * The modules are loaded here once, at import (top-level await): each is its section's schema and a
 * few functions; the platform's code still loads only in `create()`.
 */
import { z } from 'zod';
import type { PlatformModule } from './platform.js';
import { DEFAULT_PLATFORM, PLATFORMS, PLATFORM_KINDS, type PlatformKind, type PlatformModules } from './registry.js';

const modules = Object.fromEntries(
  await Promise.all(PLATFORM_KINDS.map(async (k) => [k, (await PLATFORMS[k]()).default] as const)),
) as PlatformModules;

type Sections = { [K in PlatformKind]: PlatformModules[K]['schema'] };
const sections = Object.fromEntries(PLATFORM_KINDS.map((k) => [k, modules[k].schema])) as Sections;

export const platformSection = z
  .strictObject({
    kind: z.enum(PLATFORM_KINDS).default(DEFAULT_PLATFORM),
    ...sections,
  })
  .prefault({});

export type PlatformSection = z.output<typeof platformSection>;

/** The Kubernetes distributions a platform can serve, its default first. */
export function platformKubernetes(kind: PlatformKind): PlatformModule['kubernetes'] {
  return (modules[kind] as PlatformModule).kubernetes;
}

/** The experiment's platform checks its own section; `fail` gets the full key path (`platform.static.inventory`). */
export function crossCheckPlatform(section: PlatformSection, fail: (path: string, message: string) => never): void {
  const kind = section.kind;
  const m = modules[kind] as PlatformModule;
  m.crossCheck?.(section[kind], (key, message) => fail(key ? `platform.${kind}.${key}` : `platform.${kind}`, message));
}
