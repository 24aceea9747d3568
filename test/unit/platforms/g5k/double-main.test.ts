/**
 * The API double starts by hand as docs/g5k.md says (`npx tsx test/support/g5k-double/main.ts`), from
 * the sources under test/ (the build does not ship it): it answers the API, prints the snippet for its
 * mapped nodes, writes its pid file and goes away on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmp } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');

describe('the API double by hand', () => {
  it('starts with npx tsx, answers /stable/sites, writes its pid file and stops on SIGTERM', async () => {
    const dir = tmp('g5k-main-');
    const pidFile = join(dir, 'double.pid');
    const child = spawn('npx', ['tsx', 'test/support/g5k-double/main.ts', '--port', '0', '--map', '10.9.9.11,10.9.9.12', '--pid-file', pidFile], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const t = setInterval(() => {
          const m = /listening at (http:\/\/\S+\/stable)/.exec(out);
          if (m && out.includes('paravance-2.rennes.grid5000.fr: 10.9.9.12') && existsSync(pidFile)) {
            clearInterval(t);
            resolve(m[1]!);
          }
        }, 50);
        child.on('exit', (code) => {
          clearInterval(t);
          reject(new Error(`the double exited (${code}): ${out}`));
        });
      });
      const sites = (await (await fetch(`${url}/sites`)).json()) as { items: { uid: string }[] };
      expect(sites.items.map((s) => s.uid)).toContain('rennes');
      expect(out).toContain(`api_url: ${url}`);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      process.kill(pid, 'SIGTERM');
      await exited;
      expect(existsSync(pidFile)).toBe(false);
    } finally {
      child.kill();
    }
  });

  it('is not part of the build: nothing under src/ holds it', () => {
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    const hits = walk(join(ROOT, 'src')).filter((f) => /class G5kDouble|__double\//.test(readFileSync(f, 'utf8')));
    expect(hits).toEqual([]);
  });
});
