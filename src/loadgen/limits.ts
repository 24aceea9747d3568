/**
 * The load generator's bounds and defaults, and the start token's header, in one place and without
 * zod, so the CLI can show them in `--help` without loading the schema. src/loadgen/plan.ts builds
 * the one schema from these.
 */

/** HTTP header of the start token on `POST /start` (value `Bearer <token>`). */
export const START_TOKEN_HEADER = 'Authorization';
export const START_TOKEN_SCHEME = 'Bearer';
/** Environment variable that gives the flag form (`--await-start`) its start token. */
export const START_TOKEN_ENV = 'GREENRACE_LOADGEN_TOKEN';

const MiB = 1024 * 1024;

/** The bounds (the ingest section of an experiment can reuse the schemas built from them). */
export const LOADGEN_BOUNDS = {
  rate: { min: 0, max: 100_000_000 },
  messageSize: { min: 1, max: 10 * MiB },
  warmupS: { min: 0, max: 86_400 },
  durationS: { min: 0.1, max: 7 * 86_400 },
  lingerMs: { min: 0, max: 60_000 },
  batchBytes: { min: 0, max: 64 * MiB },
  maxInflight: { min: 1, max: 1024 },
  connections: { min: 1, max: 64 },
  requestMs: { min: 100, max: 600_000 },
  stallMs: { min: 500, max: 3_600_000 },
  connectMs: { min: 100, max: 600_000 },
  startMs: { min: 100, max: 3_600_000 },
  maxLateMs: { min: 0, max: 3_600_000 },
  port: { min: 0, max: 65_535 },
} as const;

/** The defaults of what a plan may leave out. */
export const LOADGEN_DEFAULTS = {
  messageSize: 1024,
  warmupS: 0,
  durationS: 30,
  acks: 'all',
  keys: 'none',
  lingerMs: 5,
  batchBytes: 65_536,
  maxInflight: 5,
  connections: 1,
  java: 'java',
  heap: '512m',
  requestMs: 10_000,
  stallMs: 20_000,
  connectMs: 15_000,
  startMs: 180_000,
  maxLateMs: 2000,
} as const;

export const ACKS = ['0', '1', 'all'] as const;
export const KEY_MODES = ['none', 'random', 'sequential'] as const;
export const DRIVER_NAMES = ['native', 'perf-test'] as const;
export type Acks = (typeof ACKS)[number];
export type KeyMode = (typeof KEY_MODES)[number];
