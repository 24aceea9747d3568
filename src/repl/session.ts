import type { Writable } from 'node:stream';
import { InterruptedError, UsageError } from '../core/errors.js';
import { loadExperiment, type Experiment, type LoadOptions, type LoadedExperiment } from '../app/config.js';
import { latestRunRecord, type RunRecord } from '../app/query.js';
import type { SshSession } from '../app/remote.js';
import { diffConfigs, type Change, type Override } from './overrides.js';
import { redact, secretValues } from './redact.js';

export interface SessionOptions {
  /** Experiment name or file, as given to `entrypoint i`. */
  exp: string;
  /** `--set` and flag overrides from the command line; kept across loadConfig calls. */
  load: LoadOptions;
  out: Writable;
  color?: boolean;
  /** Asks the user a yes/no question (killjob); answers false when there is no one to ask. */
  confirm?: (question: string) => Promise<boolean>;
}

/**
 * Everything the shell's helpers share: the loaded experiment, the overrides, its SSH connections,
 * the last run record, and the helpers in flight (so Ctrl-C can cancel them).
 */
export class Session {
  exp: string;
  readonly cliLoad: LoadOptions;
  /** Overrides from the latest loadConfig(…, overrides). */
  extra: Override[] = [];
  loaded: LoadedExperiment;
  lastRun: RunRecord | undefined;
  readonly out: Writable;
  readonly color: boolean;
  confirm: (question: string) => Promise<boolean>;
  private readonly active = new Set<AbortController>();
  private sessionP: Promise<SshSession> | undefined;
  private secrets: Set<string>;

  constructor(opts: SessionOptions) {
    this.exp = opts.exp;
    this.cliLoad = opts.load;
    this.out = opts.out;
    this.color = opts.color ?? false;
    this.confirm = opts.confirm ?? (async () => false);
    this.loaded = loadExperiment(opts.exp, opts.load);
    this.exp = this.loaded.experiment.name;
    this.secrets = secretValues(this.loaded.experiment);
    this.lastRun = latestRunRecord(this.exp);
  }

  get experiment(): Experiment {
    return this.loaded.experiment;
  }

  /** The effective configuration with secrets masked. */
  redactedConfig(): Experiment {
    return redact(this.loaded.experiment);
  }

  secretStrings(): Set<string> {
    return this.secrets;
  }

  print(line = ''): void {
    this.out.write(line + '\n');
  }

  /**
   * (Re)load an experiment with the command-line overrides plus `extra`. On success the session
   * switches to it and the changes are returned; on failure nothing changes and the error is thrown.
   */
  reload(name: string | undefined, extra: Override[]): Change[] {
    const switching = name !== undefined && name !== this.exp;
    const load: LoadOptions = {
      ...(this.cliLoad.set ? { set: this.cliLoad.set } : {}),
      overrides: [...(this.cliLoad.overrides ?? []), ...extra],
    };
    const next = loadExperiment(name ?? this.exp, load);
    const changes = diffConfigs(redact(this.loaded.experiment), redact(next.experiment));
    this.loaded = next;
    this.extra = extra;
    if (switching) {
      // Connections follow the experiment: its own Ansible control folder.
      const old = this.sessionP;
      this.sessionP = undefined;
      void old?.then((x) => x.close());
      this.exp = next.experiment.name;
      this.lastRun = latestRunRecord(this.exp);
    }
    this.secrets = secretValues(next.experiment);
    return changes;
  }

  /**
   * Run a helper's work with its own AbortSignal. Ctrl-C aborts every helper in flight; the work must
   * stop what it started remotely before it settles (or be marked `abandonOnAbort`).
   */
  async task<T>(fn: (signal: AbortSignal) => Promise<T>, opts: { abandonOnAbort?: boolean } = {}): Promise<T> {
    const ac = new AbortController();
    this.active.add(ac);
    try {
      const work = fn(ac.signal);
      // Work with nothing to stop remotely (an HTTP query) is abandoned at once on Ctrl-C.
      const r = opts.abandonOnAbort
        ? await Promise.race([
            work,
            new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(new InterruptedError('interrupted')), { once: true })),
          ])
        : await work;
      if (ac.signal.aborted) throw new InterruptedError('interrupted');
      return r;
    } finally {
      this.active.delete(ac);
    }
  }

  get busy(): boolean {
    return this.active.size > 0;
  }

  /** Cancel the helpers in flight; returns how many there were. */
  interrupt(): number {
    const n = this.active.size;
    for (const ac of this.active) ac.abort(new InterruptedError('interrupted'));
    return n;
  }

  /** The shell's SSH connections (the SSH code is loaded on first use, to keep the shell's start fast). */
  ssh(): Promise<SshSession> {
    this.sessionP ??= import('../app/remote.js').then((m) => m.openSession(this.exp));
    return this.sessionP;
  }

  async close(): Promise<void> {
    this.interrupt();
    if (this.sessionP) await (await this.sessionP).close();
  }
}

/** Argument checks shared by the helpers: one clear message naming the helper and the argument. */
export function argError(signature: string, message: string): UsageError {
  return new UsageError('repl.bad_argument', `${signature}: ${message}`);
}
