/**
 * Machine-wide claims of the local platform, so several experiments (from any working directory)
 * can be up at once without clashing: one file per tag and one per /24 under /run/greenrace/local/
 * (tmpfs, like /run/netns: both vanish on reboot). A claim is taken with an exclusive create, so two
 * `setup`s starting together cannot pick the same names. A claim whose owner has neither an intent
 * file nor its bridge any more is stale and taken over.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intentPath } from './intent.js';

export const REGISTRY_DIR = process.env.GREENRACE_LOCAL_REGISTRY ?? '/run/greenrace/local';

export interface Claim {
  experiment: string;
  stateDir: string;
  tag: string;
  prefix: string;
  bridge: string;
}

export type ClaimKind = 'tag' | 'net';

export const claimFile = (kind: ClaimKind, key: string): string => join(REGISTRY_DIR, `${kind}-${key}.json`);

export function readClaim(file: string): Claim | undefined {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Claim;
    return typeof c.stateDir === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

function isStale(file: string, c: Claim | undefined, liveLinks: Set<string>): boolean {
  if (!c) {
    // unreadable: half-written by a concurrent claimant, or garbage from a crash long ago
    try {
      return Date.now() - statSync(file).mtimeMs > 10_000;
    } catch {
      return true;
    }
  }
  return !existsSync(intentPath(c.stateDir)) && !liveLinks.has(c.bridge);
}

/** Who holds a claim, when it is neither free, stale, nor ours. */
export function holderOf(kind: ClaimKind, key: string, stateDir: string, liveLinks: Set<string>): Claim | undefined {
  const file = claimFile(kind, key);
  if (!existsSync(file)) return undefined;
  const c = readClaim(file);
  if (c && c.stateDir === stateDir) return undefined;
  if (isStale(file, c, liveLinks)) return undefined;
  return c ?? { experiment: '?', stateDir: '?', tag: '?', prefix: '?', bridge: '?' };
}

/** Take a claim; true when it is now ours (already ours, free, or stale). */
export function claim(kind: ClaimKind, key: string, owner: Claim, liveLinks: Set<string>): boolean {
  mkdirSync(REGISTRY_DIR, { recursive: true, mode: 0o755 });
  const file = claimFile(kind, key);
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(file, JSON.stringify(owner) + '\n', { flag: 'wx', mode: 0o644 });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const c = readClaim(file);
    if (c && c.stateDir === owner.stateDir) {
      if (c.tag !== owner.tag || c.prefix !== owner.prefix) writeFileSync(file, JSON.stringify(owner) + '\n', { mode: 0o644 });
      return true;
    }
    if (!isStale(file, c, liveLinks)) return false;
    rmSync(file, { force: true });
  }
  return false;
}

/** Claim files held by a state dir (for a release with neither handle nor intent file). */
export function claimsOf(stateDir: string): Array<{ file: string; claim: Claim }> {
  if (!existsSync(REGISTRY_DIR)) return [];
  const out: Array<{ file: string; claim: Claim }> = [];
  for (const f of readdirSync(REGISTRY_DIR)) {
    const file = join(REGISTRY_DIR, f);
    const c = readClaim(file);
    if (c && c.stateDir === stateDir) out.push({ file, claim: c });
  }
  return out;
}

export function dropClaims(stateDir: string): string[] {
  const dropped: string[] = [];
  for (const { file } of claimsOf(stateDir)) {
    rmSync(file, { force: true });
    dropped.push(file);
  }
  return dropped;
}
