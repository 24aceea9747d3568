import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCredentials, Secret } from '../../../../src/platforms/g5k/credentials.js';
import { G5kPlatform } from '../../../../src/platforms/g5k/platform.js';
import { startDouble } from '../../../support/g5k-double/index.js';
import { experiment, PASSWORD, tmp, USER } from './helpers.js';

describe('Grid\'5000 credentials', () => {
  const saved = { ...process.env };
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = tmp('g5k-home-');
    file = join(dir, '.python-grid5000.yaml');
    process.env.GREENRACE_G5K_CREDENTIALS = file;
    delete process.env.GRID5000_USERNAME;
    delete process.env.GRID5000_PASSWORD;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reads username and password from a 0600 file', () => {
    writeFileSync(file, `username: ${USER}\npassword: "${PASSWORD}"\n`, { mode: 0o600 });
    const c = loadCredentials({ inside: false })!;
    expect(c.username).toBe(USER);
    expect(c.password.reveal()).toBe(PASSWORD);
  });

  it('refuses a world-readable file, naming it and the fix, without showing the password', () => {
    writeFileSync(file, `username: ${USER}\npassword: ${PASSWORD}\n`);
    chmodSync(file, 0o644);
    let err: unknown;
    try {
      loadCredentials({ inside: false });
    } catch (e) {
      err = e;
    }
    expect((err as { code: string }).code).toBe('g5k.credentials.permissions');
    expect((err as Error).message).toContain(`${file} is readable or writable by group or others (mode 644)`);
    expect((err as { hint: string }).hint).toBe(`chmod 600 ${file}`);
    expect(JSON.stringify(err) + (err as Error).message + inspect(err)).not.toContain(PASSWORD);
    chmodSync(file, 0o640);
    expect(() => loadCredentials({ inside: false })).toThrow(/mode 640/);
  });

  it('a YAML error does not quote the file (which holds the password)', () => {
    writeFileSync(file, `username: ${USER}\npassword: [${PASSWORD}\n`, { mode: 0o600 });
    expect(() => loadCredentials({ inside: false })).toThrow(/not valid YAML$/);
    try {
      loadCredentials({ inside: false });
    } catch (e) {
      expect(inspect(e)).not.toContain(PASSWORD);
    }
  });

  it('environment variables win; missing credentials outside Grid\'5000 are an error; inside they are optional', () => {
    process.env.GRID5000_USERNAME = 'envuser';
    process.env.GRID5000_PASSWORD = PASSWORD;
    expect(loadCredentials({ inside: false })!.username).toBe('envuser');
    delete process.env.GRID5000_USERNAME;
    expect(() => loadCredentials({ inside: false })).toThrow(/no Grid'5000 API credentials/);
    expect(loadCredentials({ inside: true })).toBeUndefined();
  });

  it('a Secret never prints', () => {
    const s = new Secret(PASSWORD);
    expect(`${s}`).toBe('***');
    expect(JSON.stringify({ s })).toBe('{"s":"***"}');
    expect(inspect({ s })).not.toContain(PASSWORD);
  });

  it('the platform refuses a world-readable file before any API call', async () => {
    writeFileSync(file, `username: ${USER}\npassword: ${PASSWORD}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const d = await startDouble({ users: { [USER]: PASSWORD } });
    try {
      const p = new G5kPlatform({ inside: false });
      const e = experiment({ cluster: 'paravance', api_url: d.url });
      await expect(p.reserve({ experiment: e, roles: { control: 1, broker: 0, worker: 0 }, stateDir: tmp() })).rejects.toThrow(/refusing to use it/);
      expect(d.count()).toBe(0);
    } finally {
      await d.stop();
    }
  });

  it('inside Grid\'5000 without credentials, calls go without Authorization', async () => {
    const d = await startDouble({ anonymousUser: 'alice' });
    try {
      const p = new G5kPlatform({ inside: true, clock: (await import('../../../support/g5k-double/index.js')).steppedClock(d), isDeployed: async () => false, sshCheck: async () => true });
      const stateDir = tmp();
      const h = await p.reserve({ experiment: experiment({ cluster: 'gros', api_url: d.url, deploy: false, user: 'alice' }), roles: { control: 1, broker: 0, worker: 0 }, stateDir });
      expect(h.hosts[0]!.vars?.ansible_ssh_common_args).not.toMatch(/ProxyJump/);
      expect(d.jobs.at(-1)!.user).toBe('alice');
      await p.release(stateDir, h);
    } finally {
      await d.stop();
    }
  });
});
