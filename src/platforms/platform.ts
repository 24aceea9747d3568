/**
 * What every platform is: the `Platform` a use case drives (plan, reserve, status, release) and the
 * `PlatformModule` each platform folder's index.ts exports for the registry (kind, config section,
 * cross-check, energy sources, and `create()`, which loads the platform's code on first use).
 */
import type { z } from 'zod';
import type { K8sDistribution } from '../config/schema/kubernetes.js';
import { PlatformError } from '../core/errors.js';
import type { Host, RoleSizes } from '../core/types.js';
import type { EnergySource } from '../metrics/energy/source.js';
import type { PlatformKind } from './registry.js';
import type { PlatformSection } from './section.js';

/** What a platform sees of the experiment: its name and its `platform` section. */
export interface PlatformExperiment {
  name: string;
  platform: PlatformSection;
}

/** What `setup` asks a platform for. */
export interface ReserveRequest {
  experiment: PlatformExperiment;
  /** Hosts wanted per role (the experiment's roles after `--workers`). */
  roles: RoleSizes;
  /** `.greenrace/<exp>/`: the platform keeps its files (keys, per-host dirs, logs) under it. */
  stateDir: string;
  /** Shows progress on long work (waiting for a job, for SSH). */
  progress?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * The experiment file (first of `LoadedExperiment.files`): relative paths in it, such as
   * `platform.static.inventory`, are resolved against its folder first, then the working directory.
   */
  experimentFile?: string;
  /** `--inventory FILE` (static platform): overrides `platform.static.inventory`; relative to the working directory. */
  inventoryFile?: string;
}

/**
 * What a platform hands back, saved in the state file and given back to `status` and `release`.
 * Everything in it is JSON.
 */
export interface PlatformHandle {
  kind: PlatformKind;
  /** Platform-specific data: job ids, namespace names, subnet, ... (no secrets). */
  data: Record<string, unknown>;
  /** Every host carries `machine`: hosts with the same value run on one physical machine. */
  hosts: Host[];
  /**
   * The address of this machine as the hosts see it, where they can reach services run here
   * (local platform: the bridge address). Undefined when hosts cannot reach the controller.
   */
  controllerAddress?: string;
  /**
   * Per-host directory for files services write, as an inventory variable (`gr_data_dir`);
   * on the local platform it is keyed by host because the filesystem is shared.
   */
  dataDirs: Record<string, string>;
  /** True when hosts share this machine's filesystem (install packages once, not per host). */
  sharedFilesystem: boolean;
}

/**
 * Reserving stopped, but what was reserved is kept (a queued job that did not start in time, an API
 * that stayed unreachable): `setup` reattaches to it, `killjob` gives it back. A first `setup` that
 * fails with it does not roll the reservation back.
 */
export class ReservationKeptError extends PlatformError {}

/** What `release` may do besides giving back what the platform's own files name. */
export interface ReleaseOptions {
  /**
   * Also find what the experiment's configuration alone leads to (g5k: the user's live jobs with the
   * experiment's job name at its sites) and give that back, naming each: for a lost state folder or
   * `killjob --by-name`.
   */
  byName?: { experiment: PlatformExperiment; roles: RoleSizes };
}

export interface HostStatus {
  host: string;
  address: string;
  roles: string[];
  reachable: boolean;
  detail?: string;
}

export interface PlatformPlan {
  /** Human-readable lines for `setup --dry-run`. */
  lines: string[];
  /** The hosts that would be handed out (addresses may be predicted). */
  hosts: Host[];
  /** Whether the hosts would share this machine's filesystem (as the handle's `sharedFilesystem`). */
  sharedFilesystem: boolean;
}

export interface Platform {
  readonly kind: PlatformKind;
  /** What reserve would do, touching nothing (`setup --dry-run`). */
  plan(req: ReserveRequest): Promise<PlatformPlan>;
  /**
   * Get the hosts. With `previous` (a handle from an earlier `setup`), reattach and converge:
   * never a second set of hosts. Must leave enough on disk (before creating anything) that
   * `release` can clean up after a crash halfway.
   */
  reserve(req: ReserveRequest, previous?: PlatformHandle): Promise<PlatformHandle>;
  /** Per-host reachability. */
  status(handle: PlatformHandle): Promise<HostStatus[]>;
  /**
   * Give back what this experiment reserved: what the handle or the platform's own files name (never
   * something they do not, unless `opts.byName` asks to look by name). Idempotent; works from a
   * partial handle or none (then from what is on disk). Resolves to what was given back, one item
   * each (`job 123 at rennes`, `namespace gr0k3f-worker-1`): empty when there was nothing.
   */
  release(stateDir: string, handle?: PlatformHandle, progress?: (line: string) => void, opts?: ReleaseOptions): Promise<string[]>;
  /**
   * The handle an experiment's hosts would have, from its configuration alone, creating and checking
   * nothing: for `killjob` to destroy services when the state folder is lost (hosts that outlive the
   * experiment, as the static platform's). Platforms whose release takes the hosts away leave it out.
   */
  recover?(req: ReserveRequest): Promise<PlatformHandle>;
}

/** Reports a cross-check failure at a key of the platform's section (`''`: the section itself). */
export type SectionFail = (key: string, message: string) => never;

/**
 * One platform, as its folder's index.ts exports it. Only cheap things load with it (the config
 * section's schema); the platform's code loads in `create()` and `energySources()`.
 */
export interface PlatformModule<K extends string = string, S extends z.ZodType = z.ZodType> {
  kind: K;
  /** One line for help and docs. */
  description: string;
  /** Its section under `platform.<kind>` in an experiment file (defaults included). */
  schema: S;
  /**
   * The Kubernetes distributions `runtime: k3s` can have on its hosts, the default first
   * (docs/k8s.md): namespace hosts have no systemd and no internet, so the local platform serves
   * `upstream` only.
   */
  kubernetes: readonly [K8sDistribution, ...K8sDistribution[]];
  /** Checks across keys of its section, run when it is the experiment's platform. */
  crossCheck?(section: z.output<S>, fail: SectionFail): void;
  create(): Promise<Platform>;
  /**
   * Energy sources this platform offers besides the host-level ones every platform has through
   * Prometheus (Scaphandre, RAPL, the model), by the name `energy.sources` lists them under.
   */
  energySources(handle: PlatformHandle, section: z.output<S>): Promise<Record<string, EnergySource>>;
}
