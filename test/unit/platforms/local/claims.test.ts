import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'plt-reg-'));
let reg: typeof import('../../../../src/platforms/local/claims.js');

beforeAll(async () => {
  process.env.GREENRACE_LOCAL_REGISTRY = join(dir, 'registry');
  reg = await import('../../../../src/platforms/local/claims.js');
});
afterAll(() => {
  delete process.env.GREENRACE_LOCAL_REGISTRY;
  rmSync(dir, { recursive: true, force: true });
});

const owner = (exp: string) => ({ experiment: exp, stateDir: join(dir, exp), tag: 'grabcd', prefix: '10.77.4', bridge: 'grabcdbr' });
const withIntent = (exp: string) => {
  mkdirSync(join(dir, exp, 'local'), { recursive: true });
  writeFileSync(join(dir, exp, 'local', 'intent.json'), '{}');
};

describe('local platform claims (several experiments at once)', () => {
  it('gives a free name to the first experiment, again to the same one, not to another', () => {
    withIntent('one');
    expect(reg.claim('tag', 'grabcd', owner('one'), new Set())).toBe(true);
    expect(reg.claim('tag', 'grabcd', owner('one'), new Set())).toBe(true);
    expect(reg.claim('tag', 'grabcd', owner('two'), new Set())).toBe(false);
    expect(reg.holderOf('tag', 'grabcd', owner('two').stateDir, new Set())?.experiment).toBe('one');
    expect(reg.holderOf('tag', 'grabcd', owner('one').stateDir, new Set())).toBeUndefined();
  });

  it('keeps a claim whose owner has no intent file while its bridge is still up', () => {
    expect(reg.claim('net', '10.77.9', { ...owner('three'), prefix: '10.77.9' }, new Set())).toBe(true);
    expect(reg.claim('net', '10.77.9', { ...owner('four'), prefix: '10.77.9' }, new Set(['grabcdbr']))).toBe(false);
  });

  it('takes over a stale claim: owner without intent file and without bridge', () => {
    expect(reg.claim('net', '10.77.9', { ...owner('four'), prefix: '10.77.9' }, new Set())).toBe(true);
    expect(reg.claimsOf(owner('four').stateDir).map((c) => c.claim.prefix)).toEqual(['10.77.9']);
    expect(reg.claimsOf(owner('three').stateDir)).toEqual([]);
  });

  it('drops only the claims of one state dir', () => {
    expect(reg.dropClaims(owner('four').stateDir)).toHaveLength(1);
    expect(reg.claimsOf(owner('one').stateDir)).toHaveLength(1);
  });
});
