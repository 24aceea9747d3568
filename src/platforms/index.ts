/**
 * The platform family's entry: a kind's module and platform (loaded on first use, so a command only
 * pays for the platform it uses), and the energy sources of a set-up experiment's platform. Kinds
 * come from registry.ts; nothing outside a platform's folder names a kind.
 */
import { PlatformError } from '../core/errors.js';
import type { EnergySource } from '../metrics/energy/source.js';
import type { Platform, PlatformHandle, PlatformModule } from './platform.js';
import { PLATFORMS, PLATFORM_KINDS, isPlatformKind, type PlatformKind } from './registry.js';
import type { PlatformSection } from './section.js';

export type { Platform, PlatformExperiment, PlatformHandle, PlatformPlan, HostStatus, ReserveRequest } from './platform.js';
export { DEFAULT_PLATFORM, PLATFORM_KINDS, isPlatformKind, type PlatformKind } from './registry.js';

export async function platformModule(kind: PlatformKind): Promise<PlatformModule> {
  if (!isPlatformKind(kind)) {
    throw new PlatformError('platform.unknown', `platform "${String(kind)}" is not available in this build (known: ${PLATFORM_KINDS.join(', ')})`);
  }
  return (await PLATFORMS[kind]()).default as PlatformModule;
}

export async function platformFor(kind: PlatformKind): Promise<Platform> {
  return (await platformModule(kind)).create();
}

/**
 * The energy sources a set-up experiment's platform offers besides the host-level ones (e.g.
 * `{ kwollect }` on Grid'5000), from its handle and its `platform` section (the state's snapshot).
 */
export async function platformEnergySources(handle: PlatformHandle, section: PlatformSection): Promise<Record<string, EnergySource>> {
  const m = await platformModule(handle.kind);
  return m.energySources(handle, section[handle.kind]);
}
