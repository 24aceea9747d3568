/**
 * A setup interrupted with SIGINT halfway (while Ansible runs), and one killed outright while it
 * creates hosts: each leaves a state that killjob cleans up completely.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, requireRoot } from '../support/cluster.js';
import { cli, makeHome, type Home } from './setup-support.js';

let home: Home;
const EXPS = ['app-intr', 'app-crash'];

beforeAll(() => {
  requireRoot();
  home = makeHome('gr-app-intr-');
  for (const e of EXPS) home.write(e, 'platform: {kind: local}\nroles: {control: 1, broker: 1, worker: 2}\nservices: []\n');
});

afterAll(async () => {
  for (const e of EXPS) if (home && existsSync(home.stateDir(e))) await cli(home, ['killjob', e]);
  if (home) rmSync(home.dir, { recursive: true, force: true });
});

/** Start setup and resolve once its stderr shows `marker` (boxed: the child is a thenable). */
async function setupUntil(exp: string, marker: RegExp): Promise<{ child: ReturnType<typeof cli>; stderr(): string }> {
  const child = cli(home, ['setup', exp]);
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`setup never printed ${marker}; stderr:\n${err}`)), 240_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (marker.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { child, stderr: () => err };
}

async function expectNothingLeft(exp: string, tag: string): Promise<void> {
  const k = await cli(home, ['killjob', exp]);
  expect(k.exitCode, k.all).toBe(0);
  // Without a handle (crash before the platform answered) killjob cannot count the hosts; the platform's line does.
  expect(k.stdout).toMatch(new RegExp(`^${exp}: released( (4 )?local hosts)?, cleared the state`));
  expect(k.stderr).toMatch(/local: released \d+ namespaces/);
  expect(existsSync(home.stateDir(exp))).toBe(false);
  expect(await leftovers(tag, home.stateDir(exp))).toEqual({ namespaces: [], links: [], netnsEtc: [], processes: [], controlSockets: [], claims: [] });
}

describe('interrupted and crashed setups', () => {
  it('SIGINT while Ansible runs: exit 130, phase recorded, ansible stopped; killjob cleans up', async () => {
    const { child } = await setupUntil('app-intr', /play: Wait for the hosts/);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    expect(r.stderr).toContain('[run.interrupted] setup interrupted');
    expect(r.stderr).toContain('hint: run `entrypoint killjob app-intr` to clean up');
    const st = home.state('app-intr');
    expect(st.phase).toBe('interrupted');
    expect(st.failedPhase).toBe('deploying');
    const s = await cli(home, ['status', 'app-intr', '--no-check']);
    expect(s.exitCode).toBe(1);
    expect(s.stdout).toContain('app-intr: interrupted during deploying');
    await expectNothingLeft('app-intr', st.platform.data.tag);
  });

  it('killed (SIGKILL) while creating hosts, state file lost: killjob cleans up from the platform files', async () => {
    const { child, stderr } = await setupUntil('app-crash', /local: creating 4 hosts on bridge \S+/);
    const tag = /bridge (\S+?)br /.exec(stderr())?.[1];
    expect(tag).toBeDefined();
    // Kill it once the first namespace exists: a crash with half the hosts made.
    for (let i = 0; i < 300 && (await leftovers(tag!, home.stateDir('app-crash'))).namespaces.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await leftovers(tag!, home.stateDir('app-crash'))).namespaces.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await child;
    const st = home.state('app-crash');
    expect(st.phase).toBe('reserving');
    expect(st.platform).toBeUndefined();
    // Worse still: the state file is lost too; killjob releases from the platform's own intent file.
    rmSync(join(home.stateDir('app-crash'), 'state.json'));
    await expectNothingLeft('app-crash', tag!);
  });
});
