/**
 * The platform for a kind, loaded lazily so a command only pays for the platform it uses.
 * Each platform adds one `case` here.
 */
import { PlatformError } from '../core/errors.js';
import type { PlatformKind } from '../core/types.js';
import type { Platform } from './platform.js';

export type { Platform, PlatformHandle, PlatformPlan, HostStatus, ReserveRequest } from './platform.js';

export async function platformFor(kind: PlatformKind): Promise<Platform> {
  switch (kind) {
    case 'local':
      return new (await import('./local/platform.js')).LocalPlatform();
    case 'static':
      return new (await import('./static/platform.js')).StaticPlatform();
    case 'g5k':
      return new (await import('./g5k/platform.js')).G5kPlatform();
    default:
      throw new PlatformError('platform.unknown', `platform "${String(kind)}" is not available in this build`);
  }
}
