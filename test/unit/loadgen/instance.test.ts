/**
 * `entrypoint loadgen --plan` as the app runs it: the instance is picked from the plan, the summary
 * is written where asked even when the run fails, and the failure surfaces as a greenrace error
 * with the generator's code (here: no broker listens on the bootstrap address).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLoadgenInstance } from '../../../src/app/loadgen.js';
import { LOADGEN_PLAN_SCHEMA, type LoadgenPlanInput } from '../../../src/loadgen/plan.js';
import { LOADGEN_SUMMARY_SCHEMA, type LoadgenSummary } from '../../../src/loadgen/summary.js';

describe('runLoadgenInstance', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gr-lg-inst-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (p: LoadgenPlanInput): string => {
    const f = join(dir, `plan-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify(p));
    return f;
  };
  const plan = (gens: LoadgenPlanInput['generators']): LoadgenPlanInput => ({
    schema: LOADGEN_PLAN_SCHEMA,
    shared: { bootstrap: ['127.0.0.1:1'], topic: 't', durationS: 1, startAt: Date.now() + 60_000, timeouts: { connectMs: 3000, requestMs: 1000 } },
    generators: gens,
  });

  it('a broker that is not there: failed summary written, error with the generator code, nothing printed to stdout', async () => {
    const file = write(plan([{ id: 'a', rate: 10 }, { id: 'b', rate: 10, summary: join(dir, 'b-default.json') }]));
    const out: string[] = [];
    const err: string[] = [];
    const summaryPath = join(dir, 'b.json');
    await expect(runLoadgenInstance({ plan: { file }, instance: 'b', summary: summaryPath, io: { out: (t) => out.push(t), err: (t) => err.push(t) } })).rejects.toMatchObject({
      code: 'loadgen.connect',
      exitCode: 5,
    });
    const s = JSON.parse(readFileSync(summaryPath, 'utf8')) as LoadgenSummary;
    expect(s).toMatchObject({ schema: LOADGEN_SUMMARY_SCHEMA, instance: 'b', status: 'failed', error: { code: 'loadgen.connect' } });
    expect(out).toEqual([]);
    expect(err.join('')).toMatch(/^\[b\] failed: 0 acked/);
  }, 30_000);

  it('a plan of several generators needs --instance; an unknown one is named with the ones there are', async () => {
    const file = write(plan([{ id: 'a', rate: 10 }, { id: 'b', rate: 10 }]));
    await expect(runLoadgenInstance({ plan: { file }, io: {} })).rejects.toMatchObject({ code: 'loadgen.no_instance', exitCode: 2, message: expect.stringMatching(/has 2 generators: say which one with --instance/) });
    await expect(runLoadgenInstance({ plan: { file }, instance: 'c', io: {} })).rejects.toMatchObject({ code: 'loadgen.no_instance', message: expect.stringMatching(/no generator "c" \(the plan has a, b\)/) });
  });
});
