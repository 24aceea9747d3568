/**
 * The run context owns a run's record: `running` on disk from the start, then completed (with its
 * CSV line), failed (with the error's code) or aborted (Ctrl-C), also when a second Ctrl-C makes
 * the process leave at once.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, requireReady } from '../../../src/app/context.js';
import { InterruptedError, RunError } from '../../../src/core/errors.js';
import type { RunRecord } from '../../../src/runs/record.js';
import type { RunContext, Workload } from '../../../src/workloads/contract.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const home = mkdtempSync(join(tmpdir(), 'gr-ctx-'));
const saved = process.env.GREENRACE_HOME;
const read = (dir: string): RunRecord => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;

/** A workload whose run does what the test says, in between start and finish. */
function probe(body: (ctx: RunContext<unknown, undefined>, dir: string) => Promise<void>): Workload<unknown, undefined, string> {
  return {
    name: 'probe',
    description: 'test workload',
    flags: [],
    tools: () => [],
    csv: { when: 'completed', row: (r) => ({ run_id: r.id, status: r.status, value: (r.results as { value?: number } | undefined)?.value }) },
    run: async (ctx) => {
      const run = ctx.startRun({ p: 1 });
      try {
        await body(ctx, run.dir);
        run.record.results = { value: 42 };
      } catch (e) {
        ctx.finishRun(run, e);
        throw e;
      }
      ctx.finishRun(run);
      return run.dir;
    },
  };
}

beforeAll(() => {
  process.env.GREENRACE_HOME = home;
  mkdirSync(join(home, 'experiments'), { recursive: true });
  writeFileSync(join(home, 'experiments', 'ctx.yaml'), 'roles: {control: 1, worker: 1}\n');
});
afterAll(() => {
  if (saved === undefined) delete process.env.GREENRACE_HOME;
  else process.env.GREENRACE_HOME = saved;
  rmSync(home, { recursive: true, force: true });
});

describe('the run context and a run record', () => {
  it('writes the record as running at the start, completed at the end, with its CSV line', async () => {
    let during: RunRecord | undefined;
    const w = probe(async (_ctx, dir) => {
      during = read(dir);
    });
    const dir = await w.run(createContext(w, undefined, { exp: 'ctx', hosts: [] }));
    expect(during).toMatchObject({ status: 'running', workload: 'probe', experiment: 'ctx', parameters: { p: 1 } });
    expect(during!.endedAt).toBeUndefined();
    const rec = read(dir);
    expect(rec).toMatchObject({ status: 'completed', results: { value: 42 } });
    expect(rec.endedAt).toBeDefined();
    expect(readFileSync(join(home, 'results', 'ctx', 'runs.csv'), 'utf8')).toContain(`${rec.id},completed,42`);
  });

  it('a campaign context tags its runs from the start (running, then aborted on Ctrl-C) and lists them', async () => {
    let during: RunRecord | undefined;
    let dir = '';
    const w = probe(async (_ctx, d) => {
      dir = d;
      during = read(d);
      throw new InterruptedError();
    });
    const tag = { kind: 'sweep' as const, id: 'sweep-abc', point: 'ingest.partitions=3', repetition: 2 };
    const ctx = createContext(w, undefined, { exp: 'ctx', hosts: [], campaign: tag });
    await expect(w.run(ctx)).rejects.toThrow(InterruptedError);
    expect(during).toMatchObject({ status: 'running', campaign: tag });
    expect(read(dir)).toMatchObject({ status: 'aborted', campaign: tag });
    expect(ctx.runs.map((r) => r.dir)).toEqual([dir]);
    // A context without a campaign writes no tag.
    const p = probe(async () => {});
    const plain = await p.run(createContext(p, undefined, { exp: 'ctx', hosts: [] }));
    expect(read(plain)).toMatchObject({ status: 'completed' });
    expect(read(plain).campaign).toBeUndefined();
  });

  it('a failure ends the record as failed with the error code, and no CSV line', async () => {
    let dir = '';
    const w = probe(async (_ctx, d) => {
      dir = d;
      throw new RunError('probe.broke', 'the probe broke');
    });
    await expect(w.run(createContext(w, undefined, { exp: 'ctx', hosts: [] }))).rejects.toThrow('the probe broke');
    expect(read(dir)).toMatchObject({ status: 'failed', error: { code: 'probe.broke', message: 'the probe broke' } });
    expect(readFileSync(join(home, 'results', 'ctx', 'runs.csv'), 'utf8')).not.toContain(read(dir).id);
  });

  it('Ctrl-C (an interruption) ends it as aborted', async () => {
    let dir = '';
    const ac = new AbortController();
    const w = probe(async (_ctx, d) => {
      dir = d;
      ac.abort();
      throw new InterruptedError('stopped');
    });
    await expect(w.run(createContext(w, undefined, { exp: 'ctx', hosts: [], signal: ac.signal }))).rejects.toBeInstanceOf(InterruptedError);
    expect(read(dir)).toMatchObject({ status: 'aborted', error: { code: 'run.interrupted' } });
  });

  it('a second Ctrl-C leaves at once (exit 130) and the record is saved as aborted, not left running', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/context/double-interrupt.ts'), 'ctx'], { env: { ...process.env, GREENRACE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    const dir = await new Promise<string>((res, rej) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) res(out.trim());
      });
      child.once('exit', (c) => rej(new Error(`exited ${c} before the run started`)));
    });
    expect(read(dir).status).toBe('running');
    const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    expect(read(dir).status).toBe('running'); // the run ignores the first request in this test
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const rec = read(dir);
    expect(rec.status).toBe('aborted');
    expect(rec.endedAt).toBeDefined();
    expect(rec.error?.code).toBe('run.interrupted');
  });
});

describe('the phase check', () => {
  it('closeWindow records the window, and says why there is no energy or push instead of failing the run', async () => {
    const w = probe(async (ctx, dir) => {
      const run = { id: read(dir).id, dir, record: read(dir), save: () => writeFileSync(join(dir, 'run.json'), JSON.stringify(run.record)) };
      const acc = await ctx.closeWindow(run, { start: 100, end: 160 });
      expect(acc).toBeUndefined();
      expect(read(dir).window).toEqual({ start: 100, end: 160 });
      expect(read(dir).energy).toMatchObject({ totalJoules: null, error: 'no Prometheus in this experiment (energy needs the monitoring services)' });
      // A Pushgateway nobody listens on: the push failure is recorded, the window kept.
      expect(read(dir).windowPush).toMatchObject({ url: 'http://127.0.0.1:29997', job: 'greenrace_run' });
      expect(read(dir).windowPush!.error).toMatch(/Pushgateway pushAdd of greenrace_run_info, greenrace_run_start_timestamp_seconds, greenrace_run_end_timestamp_seconds to http:\/\/127.0.0.1:29997 failed/);
    });
    const dir = await w.run(createContext(w, undefined, { exp: 'ctx', hosts: [], pushgatewayUrl: 'http://127.0.0.1:29997' }));
    expect(read(dir).status).toBe('completed');
  });

  it('one code and exit 2 for an experiment that is not set up, or not ready, naming the command to run', () => {
    const st = join(home, '.greenrace', 'ctx');
    try {
      requireReady('ctx', st);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'experiment.not_ready', exitCode: 2, message: 'experiment ctx is not set up', hint: 'run `entrypoint setup ctx` first' });
    }
    mkdirSync(st, { recursive: true });
    writeFileSync(join(st, 'state.json'), JSON.stringify({ version: 1, experiment: 'ctx', phase: 'deploying', platformKind: 'local', platform: { kind: 'local', data: {}, hosts: [{ name: 'h', address: '10.0.0.1', port: 22, user: 'root', roles: ['worker'] }], dataDirs: {}, sharedFilesystem: true } }));
    expect(() => requireReady('ctx', st)).toThrow('experiment ctx is not ready (its setup is deploying)');
    expect(existsSync(join(st, 'state.json'))).toBe(true);
  });
});
