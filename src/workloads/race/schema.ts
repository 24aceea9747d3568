import { z } from 'zod';
import { duration } from '../../config/schema/common.js';
import { PARSE_TOOLS } from '../net/tools/registry.js';

/**
 * A role: on hosts (runtime host) one of the experiment's roles (control, broker, worker; checked
 * against the hosts when the race runs); on Kubernetes a `podrace-role` label value, any name.
 */
const ROLE = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/, 'a role name (letters, digits, "-", "_", "."; a podrace-role label value on Kubernetes)');
/** A command: a shell string (run by `sh -c`) or an argv list (quoted for you), as in Podrace. */
const command = z.union([z.string().min(1), z.array(z.string()).min(1)]);
const relFile = z
  .string()
  .regex(/^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/, 'a relative path of letters, digits, ".", "_", "-" and "/"')
  .refine((s) => !s.split('/').includes('..'), 'may not contain ".."');

/** A long-running program on every host of a role, started before the laps, stopped at cleanup. */
const processConfig = z.strictObject({
  type: z.literal('process'),
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lowercase letters, digits, "-" and "_"'),
  role: ROLE,
  command,
  /** Wait until this TCP/UDP port listens on each host. */
  port: z.number().int().min(1).max(65535).optional(),
  ready_timeout: duration({ min: 1, max: 600 }).default(30),
  /** Files written into the host's race directory ($GR_RACE_DIR) first: name → content. */
  files: z.record(relFile, z.string()).default({}),
});

/** A command run once on every host of a role at deploy time; `undo` runs at cleanup. */
const execConfig = z.strictObject({
  type: z.literal('exec'),
  role: ROLE,
  command,
  undo: command.optional(),
  timeout: duration({ min: 1, max: 86400 }).default(300),
  files: z.record(relFile, z.string()).default({}),
});

const execLap = z.strictObject({
  type: z.literal('exec').default('exec'),
  role: ROLE,
  command,
  /** Per host; the lap fails when a host's command runs longer. */
  timeout: duration({ min: 1, max: 86400 }).default(600),
  /** Optional name, used for the lap's output files. */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).optional(),
});

/** Waits: lets a system settle between laps. */
const sleepLap = z.strictObject({
  type: z.literal('sleep'),
  duration: duration({ min: 0, max: 86400 }),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).optional(),
});

const lap = z.union([sleepLap, execLap]);

/**
 * Kubernetes manifests (runtime k3s), as Podrace's `configs`: a YAML file (path relative to the
 * racefile; several documents allowed) or objects given inline. Pods are found by their
 * `podrace-role` label; everything is labelled with the run and deleted whatever happens.
 */
const kubernetesConfig = z
  .strictObject({
    type: z.literal('kubernetes'),
    file: z.string().min(1).optional(),
    manifests: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
    /** How long its pods may take to be ready. */
    ready_timeout: duration({ min: 1, max: 3600 }).default(300),
  })
  .refine((c) => (c.file === undefined) !== (c.manifests === undefined), 'give either file or manifests');

/** Podrace's form: a bare file name is a Kubernetes manifest file. */
const podraceFile = z
  .string()
  .min(1)
  .transform((file) => ({ type: 'kubernetes' as const, file, ready_timeout: 300 }));

const fileCollector = z.strictObject({
  type: z.literal('file'),
  role: ROLE,
  /** Relative to the host's race directory, or absolute. */
  source: z.string().min(1),
  /** Relative path under `<run dir>/<host>/`; default: the source's file name. */
  destination: relFile.optional(),
  /** Parse the collected file into the run record's results. */
  parse: z.enum(PARSE_TOOLS).optional(),
});

export const racefileSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/).optional(),
  description: z.string().optional(),
  configs: z.array(z.union([podraceFile, z.discriminatedUnion('type', [processConfig, execConfig, kubernetesConfig])])).default([]),
  warmup: z.array(lap).default([]),
  benchmark: z.array(lap).min(1, 'a racefile needs at least one benchmark lap'),
  collectors: z.array(fileCollector).default([]),
  /**
   * Programs each role's hosts need (checked before deploying; with the experiment's state, missing
   * ones are installed by ansible/playbooks/net-tools.yml when the tool registry knows their package).
   */
  requires: z.record(ROLE, z.array(z.string().regex(/^[A-Za-z0-9_.+-]+$/, 'a program name'))).default({}),
  /** Remove each host's race directory at cleanup (collected files are already copied). */
  keep_remote_files: z.boolean().default(false),
});

export type Racefile = z.output<typeof racefileSchema>;
export type RaceConfig = Racefile['configs'][number];
export type RaceLap = Racefile['benchmark'][number];
export type RaceCollector = Racefile['collectors'][number];
