import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkHostKey, knownHostsName, parseKnownHosts } from '../../../src/remote/known-hosts.js';

const KEY_A = Buffer.from('key-a-blob');
const KEY_B = Buffer.from('key-b-blob');
const a = KEY_A.toString('base64');
const b = KEY_B.toString('base64');

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('names non-22 ports the OpenSSH way', () => {
    expect(knownHostsName('10.77.0.11', 22)).toBe('10.77.0.11');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('accepts the listed key for a comma-separated host list (as the local platform writes it)', () => {
    const e = parseKnownHosts(`# comment\n10.77.0.11,10.77.0.12 ssh-ed25519 ${a}\n`);
    expect(checkHostKey(e, '10.77.0.12', 22, KEY_A)).toEqual({ ok: true });
  });

  it('refuses a different key for a listed host and says which line', () => {
    const e = parseKnownHosts(`10.77.0.11 ssh-ed25519 ${a}\n`);
    const v = checkHostKey(e, '10.77.0.11', 22, KEY_B);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toBe('mismatch');
      expect(v.detail).toContain('line(s) 1');
    }
  });

  it('reports an unlisted host as unknown, and the port matters', () => {
    const e = parseKnownHosts(`10.77.0.11 ssh-ed25519 ${a}\n`);
    const v = checkHostKey(e, '10.77.0.11', 2222, KEY_A);
    expect(v.ok === false && v.reason).toBe('unknown');
  });

  it('matches hashed entries, wildcards and honours negation and @revoked', () => {
    const e = parseKnownHosts(
      [`${hashed('[127.0.0.1]:2200')} ssh-ed25519 ${a}`, `*.grid5000.fr,!evil.grid5000.fr ssh-ed25519 ${b}`, `@revoked bad.example ssh-ed25519 ${b}`, `@cert-authority * ssh-ed25519 ${a}`].join('\n'),
    );
    expect(checkHostKey(e, '127.0.0.1', 2200, KEY_A)).toEqual({ ok: true });
    expect(checkHostKey(e, 'access.grid5000.fr', 22, KEY_B)).toEqual({ ok: true });
    expect(checkHostKey(e, 'evil.grid5000.fr', 22, KEY_B).ok).toBe(false);
    const r = checkHostKey(e, 'bad.example', 22, KEY_B);
    expect(r.ok === false && r.reason).toBe('revoked');
  });
});
