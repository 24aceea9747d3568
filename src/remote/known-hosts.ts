import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** One usable line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  /** Comma-separated host patterns as written, or a hashed `|1|salt|hash` entry. */
  patterns: string[];
  keyType: string;
  /** Base64 of the public key blob. */
  key: string;
  revoked: boolean;
  line: number;
}

/** Parse known_hosts text. `@cert-authority` lines are skipped (certificates are not used here). */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      const marker = fields.shift();
      if (marker === '@revoked') revoked = true;
      else return;
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) return;
    out.push({ patterns: hosts.split(','), keyType, key, revoked, line: i + 1 });
  });
  return out;
}

/** The name OpenSSH looks up: `addr` on port 22, `[addr]:port` otherwise. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
    'i',
  );
  return re.test(name);
}

function hashedMatch(entry: string, name: string): boolean {
  const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(entry);
  if (!m) return false;
  const salt = Buffer.from(m[1]!, 'base64');
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return hash === m[2];
}

/** Does an entry's pattern list match `name`? A matching negated pattern (`!pat`) excludes it. */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('|1|')) {
      if (hashedMatch(p, name)) matched = true;
    } else if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

export type HostKeyVerdict =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'mismatch' | 'revoked'; detail: string };

/** Check a server's key blob against known_hosts entries for `address:port`. */
export function checkHostKey(entries: KnownHostEntry[], address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const name = knownHostsName(address, port);
  const b64 = keyBlob.toString('base64');
  const forHost = entries.filter((e) => entryMatches(e, name));
  if (forHost.some((e) => e.revoked && e.key === b64)) return { ok: false, reason: 'revoked', detail: `the host key of ${name} is marked @revoked` };
  if (forHost.some((e) => !e.revoked && e.key === b64)) return { ok: true };
  if (forHost.length === 0) return { ok: false, reason: 'unknown', detail: `${name} is not listed` };
  return {
    ok: false,
    reason: 'mismatch',
    detail: `${name} presented a key that differs from line(s) ${forHost.map((e) => e.line).join(', ')}`,
  };
}

export function loadKnownHosts(file: string): KnownHostEntry[] {
  return parseKnownHosts(readFileSync(file, 'utf8'));
}
