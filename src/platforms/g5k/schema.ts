/** `platform.g5k`: Grid'5000, where and how to reserve, deploy and reach nodes. */
import { z } from 'zod';
import { duration } from '../../config/schema/common.js';
import type { SectionFail } from '../platform.js';

/** A login as ssh and OAR take it: no spaces, no option-like text (it goes into ssh arguments). */
const LOGIN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
/** A host name (and an optional port), nothing else: it goes into ssh's ProxyJump. */
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::\d{1,5})?$/;

const ROLE_KEYS = ['control', 'broker', 'worker'] as const;

/** Where one role's nodes come from: a cluster (count from `roles`) or named nodes. */
export const g5kRolePlacementSchema = z.strictObject({
  /** Cluster for this role's nodes (default: platform.g5k.cluster). */
  cluster: z.string().min(1).optional(),
  /** Specific nodes, short names (`paravance-3`) or fqdns; their number must equal the role size. */
  nodes: z.array(z.string().min(1)).min(1).optional(),
});

/** Grid'5000: where and how to reserve, deploy and reach nodes, and which power metric to read. */
export const g5kPlatformSchema = z.strictObject({
  /** Site (rennes, lyon, ...). Default: the site of `cluster` (presets or the reference API). */
  site: z.string().min(1).optional(),
  /** Cluster used for every role unless `roles.<role>.cluster` says otherwise. */
  cluster: z.string().min(1).optional(),
  /** Per-role placement: another cluster, or specific nodes. */
  roles: z
    .partialRecord(z.enum(ROLE_KEYS), g5kRolePlacementSchema)
    .default({}),
  /** OAR job name; default `greenrace-<experiment>`. Re-running setup reattaches to a live job of this name. */
  job_name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'letters, digits, ".", "_" and "-"')
    .optional(),
  /** Default: the cluster preset's walltime, else 01:00:00. */
  walltime: z.string().regex(/^\d{1,3}:\d{2}(:\d{2})?$/, 'HH:MM or HH:MM:SS').optional(),
  /** Default: the cluster preset's queue, else `default`. */
  queue: z.enum(['default', 'production', 'besteffort', 'testing']).optional(),
  project: z.string().min(1).optional(),
  /** Extra OAR job types: `night`, `day`, `exotic`, `monitor=<regex>`, ... (`deploy` comes from `deploy`). */
  types: z.array(z.string().regex(/^[a-z_]+(=.+)?$/, 'a job type like "night" or "monitor=wattmetre_power_watt"')).default([]),
  /** Advance reservation, `YYYY-MM-DD hh:mm[:ss]` (site local time, as oarsub -r). */
  reservation: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/, '"YYYY-MM-DD hh:mm[:ss]"')
    .optional(),
  /** Deploy an environment with Kadeploy (job type `deploy`); SSH as root afterwards. */
  deploy: z.boolean().default(true),
  /** Kadeploy environment. */
  environment: z.string().min(1).default('debian12-min'),
  /** Public key installed for root by Kadeploy. Default: ~/.ssh/id_ed25519.pub, else ~/.ssh/id_rsa.pub. */
  public_key: z.string().min(1).optional(),
  /** Grid'5000 login (jobs are listed and reattached as this user, SSH logs in as it); default the API username, else $USER. */
  user: z.string().regex(LOGIN, 'a login: letters, digits, "_", "." and "-" (at most 32)').optional(),
  /** SSH through the access gateway: `auto` jumps unless this machine's name ends in grid5000.fr. */
  jump: z.enum(['auto', 'always', 'never']).default('auto'),
  gateway: z.string().regex(HOSTNAME, 'a host name, optionally with :port (e.g. access.grid5000.fr)').default('access.grid5000.fr'),
  api_url: z.string().url().default('https://api.grid5000.fr/stable'),
  /** Seconds per API request before it is abandoned (then retried). */
  api_timeout: z.number().min(1).max(600).default(30),
  /**
   * How long setup waits for the job to run (API outages, hold and suspension included) before it
   * stops and keeps the job; a duration (`2h`, `45m`) or seconds. Default: the walltime.
   */
  wait_timeout: duration({ min: 1, max: 30 * 24 * 3600 }).optional(),
  /** Power metric for energy: `auto` takes wattmetre_power_watt where the cluster has one, else bmc_node_power_watt. */
  energy_metric: z.enum(['auto', 'wattmetre_power_watt', 'bmc_node_power_watt']).default('auto'),
  /**
   * Node fqdn (or short name) → address to SSH to. Only for sites with odd DNS or for the API double,
   * whose nodes are mapped onto local namespace hosts.
   */
  address_map: z.record(z.string(), z.string()).default({}),
  /** The nodes share this machine's filesystem (only true with the double mapped onto namespace hosts). */
  shared_filesystem: z.boolean().default(false),
});

export type G5kPlatformConfig = z.output<typeof g5kPlatformSchema>;

/** The section as it sits under `platform.g5k` (absent unless the file sets it; `g5kConfig` fills the defaults). */
export const g5kSection = g5kPlatformSchema.optional();

export function crossCheck(section: G5kPlatformConfig | undefined, fail: SectionFail): void {
  if (!section?.site && !section?.cluster) fail('', 'the g5k platform needs a site or a cluster');
}
