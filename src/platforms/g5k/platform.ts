/**
 * The Grid'5000 platform: OAR jobs and Kadeploy deployments through the REST API, nodes reached over
 * SSH (through the access gateway from outside). The work is in plan.ts, reserve.ts, status.ts and
 * release.ts; the options let tests point it at the API double with a stepped clock.
 */
import type { HostStatus, Platform, PlatformHandle, PlatformPlan, ReleaseOptions, ReserveRequest } from '../platform.js';
import { G5kContext, type G5kPlatformOptions } from './context.js';
import { plan } from './plan.js';
import { release } from './release.js';
import { reserve } from './reserve.js';
import { status } from './status.js';

export type { G5kPlatformOptions } from './context.js';

export class G5kPlatform implements Platform {
  readonly kind = 'g5k' as const;
  readonly #ctx: G5kContext;

  constructor(opts: G5kPlatformOptions = {}) {
    this.#ctx = new G5kContext(opts);
  }

  plan(req: ReserveRequest): Promise<PlatformPlan> {
    return plan(this.#ctx, req);
  }
  reserve(req: ReserveRequest, previous?: PlatformHandle): Promise<PlatformHandle> {
    return reserve(this.#ctx, req, previous);
  }
  status(handle: PlatformHandle): Promise<HostStatus[]> {
    return status(this.#ctx, handle);
  }
  release(stateDir: string, handle?: PlatformHandle, progress?: (line: string) => void, opts?: ReleaseOptions): Promise<string[]> {
    return release(this.#ctx, stateDir, handle, progress, opts);
  }
}
