import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDouble } from '../support/g5k-double/index.js';
import type { G5kDouble } from '../support/g5k-double/index.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const PASSWORD = 'cli-Pw-7h1s-must-not-appear';

/** The built CLI (`npx tsc -p tsconfig.json` first) against the API double, as a user runs it. */
describe('entrypoint setup --platform g5k (built CLI, API double)', () => {
  let d: G5kDouble;
  let dir: string;
  let expFile: string;
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('integration tests run as root');
    d = await startDouble({ users: { jdoe: PASSWORD } });
    dir = mkdtempSync(join(tmpdir(), 'g5k-cli-'));
    expFile = join(dir, 'kafkag5k.yaml');
    writeFileSync(
      expFile,
      `roles: { control: 1, broker: 3, worker: 2 }\nplatform:\n  g5k:\n    cluster: paravance\n    api_url: ${d.url}\n    user: jdoe\n    types: [night]\n`,
    );
  });
  afterAll(async () => {
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    run('node', [join(ROOT, 'dist/entrypoint.js'), ...args], {
      cwd: dir,
      env: { ...process.env, GREENRACE_HOME: dir, GREENRACE_G5K_INSIDE: '0', ...env },
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );

  it('--dry-run prints the job name and the full OAR request, and calls no API', async () => {
    const r = await cli(['setup', expFile, '--platform', 'g5k', '--dry-run']);
    expect(r.out).toContain('g5k job "greenrace-kafkag5k" at rennes');
    expect(r.out).toContain("resources: {cluster='paravance'}/nodes=6,walltime=02:00:00");
    expect(r.out).toContain('types: deploy, night');
    expect(r.out).toContain('queue: default');
    expect(r.code).toBe(0);
    expect(d.count()).toBe(0);
  });

  it('--cluster overrides platform.g5k.cluster and alone selects the g5k platform; with another --platform it is refused', async () => {
    const bare = join(dir, 'plain.yaml');
    writeFileSync(bare, 'roles: { control: 1, broker: 1, worker: 1 }\n');
    const r = await cli(['setup', bare, '--cluster', 'gros', '--dry-run']);
    expect(r.out).toContain('g5k job "greenrace-plain" at nancy');
    expect(r.out).toContain("resources: {cluster='gros'}/nodes=3,walltime=02:00:00");
    expect(r.code).toBe(0);
    const o = await cli(['setup', expFile, '--cluster', 'nova', '--dry-run']);
    expect(o.out).toContain("{cluster='nova'}/nodes=6");
    const bad = await cli(['setup', bare, '--cluster', 'gros', '--platform', 'local', '--dry-run']);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain('--cluster is for the g5k platform, not --platform local');
    expect(d.count()).toBe(0);
  });

  it('a world-readable credentials file is refused before any API call; the password appears nowhere', async () => {
    const cred = join(dir, 'creds.yaml');
    writeFileSync(cred, `username: jdoe\npassword: ${PASSWORD}\n`);
    chmodSync(cred, 0o644);
    const r = await cli(['setup', expFile, '--platform', 'g5k'], { GREENRACE_G5K_CREDENTIALS: cred });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(`${cred} is readable or writable by group or others (mode 644)`);
    expect(r.out).not.toContain(PASSWORD);
    expect(d.count()).toBe(0);
    await cli(['killjob', expFile], { GREENRACE_G5K_CREDENTIALS: cred });
  });
});
