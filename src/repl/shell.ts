import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import repl, { type REPLServer } from 'node:repl';
import { GreenraceError, InterruptedError, errorMessage } from '../core/errors.js';
import { stateRoot } from '../core/paths.js';
import { listExperiments, type LoadOptions } from '../app/config.js';
import { Session } from './session.js';
import { complete, type CompletionSources } from './completion.js';
import { renderHelp } from './help.js';
import { availableHelpers } from './helpers/index.js';
import type { HelperDef } from './helpers/types.js';
import { scrubMessage } from './redact.js';
import { clusterSummary, hostNames, playbookNames } from './cluster.js';

export interface ShellOptions {
  exp: string;
  load: LoadOptions;
  input?: Readable;
  output?: Writable;
  /** Terminal mode (line editing, history, completion); default: input is a TTY. */
  terminal?: boolean;
  /** History file; default `<state root>/.history/<exp>`; false: none. */
  historyFile?: string | false;
}

/** Where the shell keeps an experiment's history (outside `.greenrace/<exp>/`, which killjob clears). */
export const historyPath = (exp: string): string => join(stateRoot(), '.history', exp);

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';

/** Run the interactive shell until Ctrl-D / `.exit` / end of input. Resolves to the exit code (0). */
export async function runShell(opts: ShellOptions): Promise<number> {
  const realInput = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const terminal = opts.terminal ?? Boolean((realInput as NodeJS.ReadStream).isTTY);
  const color = terminal && !process.env.NO_COLOR;
  const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);

  const session = new Session({ exp: opts.exp, load: opts.load, out: output, color });
  const helpers = availableHelpers();

  // Piped input goes through a queue: one line is handed to the REPL only when it shows its prompt
  // again, so helpers run one after the other, as typed.
  const replInput = terminal ? realInput : new PassThrough();
  const server: REPLServer = repl.start({
    prompt: '',
    input: replInput,
    output,
    terminal,
    useColors: color,
    ignoreUndefined: true,
    preview: false,
    // Under an explicit `await` the REPL pauses its input and would queue Ctrl-C until the promise
    // settles; with this it emits SIGINT at once, and onInterrupt (below) cancels the helper.
    breakEvalOnSigint: true,
  });

  const promptText = (): string => {
    const c = clusterSummary(session.exp);
    const st = c.up ? paint('32', `up ${c.hosts} host${c.hosts === 1 ? '' : 's'}`) : paint('2', c.detail ?? 'down');
    return `${paint('1', `gr:${session.exp}`)} [${st}]> `;
  };
  server.setPrompt(promptText());

  // ── helpers in the context ──────────────────────────────────────────────────────────────────
  const install = (h: HelperDef): void => {
    if (h.kind === 'function' && h.make) {
      Object.defineProperty(server.context, h.name, { value: h.make(session), enumerable: true, configurable: true, writable: true });
    } else if (h.get) {
      const get = h.get;
      Object.defineProperty(server.context, h.name, {
        get: () => get(session),
        set: () => {
          throw new GreenraceError('repl.read_only', `${h.name} is read-only` + (h.name === 'cfg' ? '; change the configuration with loadConfig({...})' : ''));
        },
        enumerable: true,
        configurable: true,
      });
    }
  };
  for (const h of helpers) install(h);
  const helpDef: HelperDef = {
    name: 'help',
    kind: 'function',
    signature: 'help(name?)',
    summary: 'this list, or the documentation of one helper',
    details: ['help() lists the helpers; help(name) or help(sh) shows one.'],
    examples: ["help('sh')"],
  };
  const allDocs = [...helpers, helpDef];
  Object.defineProperty(server.context, 'help', {
    value: (name?: unknown) => {
      output.write(renderHelp(allDocs, name) + '\n');
    },
    enumerable: true,
    configurable: true,
    writable: true,
  });

  // ── errors: one clear message, no stack ─────────────────────────────────────────────────────
  const report = (e: unknown): void => {
    const secrets = session.secretStrings();
    if (e instanceof InterruptedError) {
      const m = scrubMessage(e.message, secrets);
      output.write((m.startsWith('interrupted') ? paint('33', 'interrupted') + m.slice('interrupted'.length) : `${paint('33', 'interrupted:')} ${m}`) + '\n');
      return;
    }
    if (e instanceof GreenraceError) {
      output.write(`${paint('31', 'error')} ${paint('2', `[${e.code}]`)} ${scrubMessage(e.message, secrets)}\n`);
      for (const d of e.details.slice(0, 20)) output.write(`  ${scrubMessage(d, secrets)}\n`);
      if (e.hint) output.write(`${paint('2', 'hint:')} ${e.hint}\n`);
      if (e.logFile) output.write(`${paint('2', 'full log:')} ${e.logFile}\n`);
      return;
    }
    const name = e instanceof Error ? e.name : 'Error';
    output.write(`${paint('31', `Uncaught ${name}:`)} ${scrubMessage(errorMessage(e), secrets)}\n`);
    if (process.env.GREENRACE_DEBUG && e instanceof Error && e.stack) output.write(e.stack + '\n');
  };

  // ── eval: await results, cancel on Ctrl-C ───────────────────────────────────────────────────
  let running = 0;
  const defaultEval = server.eval;
  const wrapped = function (this: REPLServer, code: string, context: object, file: string, cb: (err: Error | null, result?: unknown) => void): void {
    defaultEval.call(server, code, context, file, (err: Error | null, result?: unknown) => {
      if (err) {
        if (err instanceof repl.Recoverable) return cb(err);
        report(err);
        return cb(null);
      }
      if (!isThenable(result)) return cb(null, result);
      running++;
      Promise.resolve(result).then(
        (v) => {
          running--;
          cb(null, v);
        },
        (e: unknown) => {
          running--;
          report(/interrupted by .?SIGINT/i.test(errorMessage(e)) ? new InterruptedError('interrupted') : e);
          cb(null);
        },
      );
    });
  };
  (server as unknown as { eval: typeof wrapped }).eval = wrapped;

  // Errors thrown synchronously by a helper reach the REPL's domain, not the eval callback: show
  // greenrace errors (and bugs in greenrace) as one message there too; leave the user's own errors
  // (ReferenceError, SyntaxError in what they typed) to the REPL's usual one-line report.
  const domain = (server as unknown as { _domain?: NodeJS.EventEmitter })._domain;
  if (domain) {
    const original = domain.listeners('error') as Array<(e: unknown) => void>;
    domain.removeAllListeners('error');
    domain.on('error', (e: unknown) => {
      const ours = e instanceof GreenraceError || (e instanceof Error && /\/src\/(repl|remote|app|metrics|config)\//.test(e.stack ?? ''));
      if (!ours) return original.forEach((f) => f.call(domain, e));
      report(e);
      server.clearBufferedCommand();
      server.displayPrompt();
    });
  }

  const onInterrupt = (): void => {
    const n = session.interrupt();
    if (n > 0 || running > 0) {
      output.write(paint('33', '\n^C cancelling…') + '\n');
      return;
    }
    // Idle: drop the line being typed, like a shell.
    server.clearBufferedCommand();
    if (terminal) {
      (server as unknown as { clearLine(): void }).clearLine();
      output.write('\n' + paint('2', '(Ctrl-D or .exit to leave)') + '\n');
    }
    server.displayPrompt();
  };
  server.removeAllListeners('SIGINT');
  server.on('SIGINT', onInterrupt);
  process.on('SIGINT', onInterrupt);

  // ── one line at a time; prompt refreshed after each ────────────────────────────────────────
  const lineListeners = server.listeners('line') as Array<(l: string) => void>;
  server.removeAllListeners('line');
  const queue: string[] = [];
  let ready = true;
  let inputEnded = false;
  let lineWaiter: ((l: string | undefined) => void) | undefined;
  /** The next piped line, for a helper's question (killjob's confirmation); undefined at end of input. */
  const takeLine = (): Promise<string | undefined> =>
    new Promise((resolve) => {
      if (queue.length) return resolve(queue.shift());
      if (inputEnded) return resolve(undefined);
      lineWaiter = resolve;
    });
  const pump = (): void => {
    if (lineWaiter && (queue.length || inputEnded)) {
      const w = lineWaiter;
      lineWaiter = undefined;
      w(queue.shift());
    }
    while (ready && queue.length) {
      ready = false;
      const l = queue.shift()!;
      if (terminal) for (const f of lineListeners) f.call(server, l);
      else (replInput as PassThrough).write(l + '\n');
    }
    if (ready && !queue.length && inputEnded && !terminal) (replInput as PassThrough).end();
  };
  if (terminal) {
    server.on('line', (l: string) => {
      queue.push(l);
      pump();
    });
  } else {
    for (const f of lineListeners) server.on('line', f);
    const rl = createInterface({ input: realInput, terminal: false });
    rl.on('line', (l) => {
      queue.push(l);
      pump();
    });
    rl.on('close', () => {
      inputEnded = true;
      pump();
    });
  }
  session.confirm = async (question: string): Promise<boolean> => {
    let answer: string | undefined;
    if (terminal) answer = await new Promise<string>((resolve) => server.question(question, resolve));
    else {
      output.write(question);
      answer = await takeLine();
      output.write((answer ?? '') + '\n');
    }
    return /^\s*y(es)?\s*$/i.test(answer ?? '');
  };
  const origDisplay = server.displayPrompt.bind(server);
  server.displayPrompt = (preserveCursor?: boolean) => {
    server.setPrompt(promptText());
    origDisplay(preserveCursor);
    ready = true;
    setImmediate(pump);
  };

  // ── completion ──────────────────────────────────────────────────────────────────────────────
  const defaultCompleter = (server as unknown as { completer: (l: string, cb: (e: Error | null, r?: [string[], string]) => void) => void }).completer;
  const sources = (): CompletionSources => ({
    helpers: allDocs.map((h) => h.name),
    config: session.experiment,
    experiments: listExperiments(),
    hosts: hostNames(session.exp),
    playbooks: playbookNames(),
  });
  (server as unknown as { completer: unknown }).completer = (line: string, cb: (e: Error | null, r?: [string[], string]) => void) => {
    let ours: [string[], string] | undefined;
    try {
      ours = complete(line, sources());
    } catch {
      ours = undefined;
    }
    if (ours) return cb(null, ours);
    defaultCompleter.call(server, line, cb);
  };

  // ── history ─────────────────────────────────────────────────────────────────────────────────
  const history = opts.historyFile === undefined ? historyPath(session.exp) : opts.historyFile;
  if (terminal && history) {
    mkdirSync(dirname(history), { recursive: true });
    await new Promise<void>((resolve) => server.setupHistory(history, () => resolve()));
  }

  output.write(
    `greenrace shell: ${session.exp} (${session.loaded.files[0]}). help() lists the helpers; Ctrl-D leaves.\n`,
  );
  server.displayPrompt();

  return new Promise<number>((resolve) => {
    server.on('exit', () => {
      process.removeListener('SIGINT', onInterrupt);
      void session.close().then(() => {
        if (terminal) output.write('\n');
        resolve(0);
      });
    });
  });
}
