/**
 * The one error family. Every error a user can see is a GreenraceError with a stable dotted
 * `code`, an `exitCode` that tells usage errors (2) from run failures (3+), and an optional
 * `cause`. The CLI prints `message` (plus `details` lines) and never a stack trace.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  platform: 3,
  ansible: 4,
  run: 5,
  interrupted: 130,
} as const;

export interface ErrorOptions {
  cause?: unknown;
  exitCode?: number;
  /** Extra lines shown under the message (e.g. the relevant stderr lines). */
  details?: string[];
  /** Where the full log is, if any. */
  logFile?: string;
  hint?: string;
}

export class GreenraceError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly details: string[];
  readonly logFile?: string;
  readonly hint?: string;

  constructor(code: string, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts.exitCode ?? ExitCode.failure;
    this.details = opts.details ?? [];
    if (opts.logFile !== undefined) this.logFile = opts.logFile;
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

/** Bad command line: unknown option, bad value. Exit 2. */
export class UsageError extends GreenraceError {
  constructor(code: string, message: string, opts: ErrorOptions = {}) {
    super(code, message, { exitCode: ExitCode.usage, ...opts });
  }
}

/** A configuration file is wrong. Names the file and the key path. Exit 2. */
export class ConfigError extends GreenraceError {
  readonly file: string | undefined;
  readonly path: string | undefined;
  constructor(code: string, message: string, opts: ErrorOptions & { file?: string; path?: string } = {}) {
    super(code, message, { exitCode: ExitCode.usage, ...opts });
    this.file = opts.file;
    this.path = opts.path;
  }
}

/** Getting or giving back hosts failed. Exit 3. */
export class PlatformError extends GreenraceError {
  readonly hosts: string[];
  constructor(code: string, message: string, opts: ErrorOptions & { hosts?: string[] } = {}) {
    super(code, message, { exitCode: ExitCode.platform, ...opts });
    this.hosts = opts.hosts ?? [];
  }
}

export interface HostFailure {
  host: string;
  task: string;
  /** "failed" or "unreachable". */
  status: 'failed' | 'unreachable';
  message: string;
}

/** An Ansible play failed on some hosts. Exit 4. */
export class AnsibleError extends GreenraceError {
  readonly failures: HostFailure[];
  constructor(code: string, message: string, opts: ErrorOptions & { failures?: HostFailure[] } = {}) {
    super(code, message, { exitCode: ExitCode.ansible, ...opts });
    this.failures = opts.failures ?? [];
  }
  get hosts(): string[] {
    return [...new Set(this.failures.map((f) => f.host))];
  }
}

/** A run (workload, query, collection) failed. Exit 5. */
export class RunError extends GreenraceError {
  constructor(code: string, message: string, opts: ErrorOptions = {}) {
    super(code, message, { exitCode: ExitCode.run, ...opts });
  }
}

/** The user pressed Ctrl-C (or the process got SIGTERM). Exit 130. */
export class InterruptedError extends GreenraceError {
  constructor(message = 'interrupted', opts: ErrorOptions = {}) {
    super('run.interrupted', message, { exitCode: ExitCode.interrupted, ...opts });
  }
}

export function isGreenraceError(e: unknown): e is GreenraceError {
  return e instanceof GreenraceError;
}

/** Message of any thrown value, without a stack. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
