/** The shell in-process, fed by piped input: lines run in order, errors are one line, exit code 0. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShell } from '../../../src/repl/shell.js';

let dir: string;
const saved = { ...process.env };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rpl-shell-'));
  process.env.GREENRACE_STATE_DIR = join(dir, 'state');
  process.env.GREENRACE_RESULTS_DIR = join(dir, 'results');
});
afterAll(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

async function run(lines: string[], load = {}): Promise<{ code: number; out: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (d: Buffer) => (out += d.toString()));
  const p = runShell({ exp: 'quickstart', load, input, output, terminal: false, historyFile: false });
  input.end(lines.join('\n') + '\n');
  const code = await p;
  return { code, out };
}

describe('entrypoint i, scripted', () => {
  it('applies command-line overrides, reloads with more, and keeps going after errors', async () => {
    const { code, out } = await run(
      [
        'cfg.ingest.load',
        'loadConfig({ load: 7000, partitions: 6 })',
        'cfg.ingest.partitions',
        "loadConfig({ 'ingest.acks': 'some' })",
        'cfg.ingest.acks',
        'cfg.ingest.load = 1',
        'undefinedThing',
        "sh('worker', 42)",
        "hosts('worker')",
        'new Promise((r) => setTimeout(() => r("slow"), 200))',
        '"fast"',
      ],
      { overrides: [{ path: 'ingest.load', value: 3000, flag: '--load' }] },
    );
    expect(code).toBe(0);
    const lines = out.split('\n');
    // --load applied; loadConfig printed its changes.
    expect(lines).toContain('gr:quickstart [down]> 3000');
    expect(out).toContain('ingest.load: 3000 → 7000');
    expect(out).toContain('ingest.partitions: 3 → 6');
    expect(lines).toContain('gr:quickstart [down]> 6');
    // A bad value: one message naming the key and the allowed values; the configuration is unchanged.
    expect(out).toMatch(/error \[config.invalid\] loadConfig \(ingest.acks\): .*"0".*"1".*"all"/);
    expect(lines).toContain("gr:quickstart [down]> 'all'");
    expect(out).toContain('error [repl.read_only] cfg is read-only');
    expect(out).toContain('Uncaught ReferenceError: undefinedThing is not defined');
    expect(out).toContain('error [repl.bad_argument] sh(role, command, opts?): command must be a non-empty string (got number 42)');
    expect(out).toContain('error [repl.no_cluster] experiment quickstart has no cluster');
    // Lines run one after the other: the slow promise's result comes before the next line's.
    expect(out.indexOf("'slow'")).toBeGreaterThan(0);
    expect(out.indexOf("'slow'")).toBeLessThan(out.indexOf("'fast'"));
    expect(out).not.toMatch(/\n\s+at /); // no stack traces
  });

  it('killjob() asks first; "n" (or no answer) does nothing and the shell goes on', async () => {
    const { code, out } = await run(['killjob()', 'n', '"after"', 'killjob()']);
    expect(code).toBe(0);
    expect(out).toContain('destroy the services and release every host of quickstart? [y/N] n\nkilljob: nothing done');
    expect(out).toContain("'after'");
    expect(out.match(/killjob: nothing done/g)).toHaveLength(2);
  });

  it('refuses an invalid override on the command line before starting', async () => {
    await expect(run([], { set: ['ingest.load=-5'] })).rejects.toThrow('--set ingest.load: must be greater than 0 (got -5)');
  });
});

describe('entrypoint i, in a terminal', () => {
  it('completes helper names, roles and cfg keys with Tab through the real REPL', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (d: Buffer) => (out += d.toString()));
    const p = runShell({ exp: 'quickstart', load: {}, input, output, terminal: true, historyFile: false });
    const typed = async (s: string): Promise<void> => {
      input.write(s);
      await new Promise((r) => setTimeout(r, 150));
    };
    await typed('loadC\t');
    expect(out).toContain('loadConfig');
    await typed('\x15'); // Ctrl-U: clear the line
    await typed("sh('wo\t");
    expect(out).toContain("sh('worker");
    await typed('\x15');
    await typed('cfg.ingest.mess\t');
    expect(out).toContain('cfg.ingest.message_size');
    await typed('\x15');
    input.write('\x04'); // Ctrl-D
    expect(await p).toBe(0);
  });
});
