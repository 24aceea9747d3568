import { readFileSync, statSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError } from '../../core/errors.js';

/**
 * A password that cannot leak by accident: it prints, stringifies, inspects and serialises as `***`.
 * Only `reveal()` gives the value, and only the API client calls it (to build the Authorization header).
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '***';
  }
  toJSON(): string {
    return '***';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '***';
  }
}

export interface Credentials {
  username: string;
  password: Secret;
  /** Where they came from, for messages ("~/.python-grid5000.yaml", "environment"). */
  origin: string;
}

export const CREDENTIALS_FILE_NAME = '.python-grid5000.yaml';

export function credentialsFile(): string {
  return process.env.GREENRACE_G5K_CREDENTIALS ?? join(homedir(), CREDENTIALS_FILE_NAME);
}

/** True when this machine is inside Grid'5000 (a frontend or a node), where the API needs no credentials. */
export function insideGrid5000(): boolean {
  const forced = process.env.GREENRACE_G5K_INSIDE;
  if (forced === '1' || forced === 'true') return true;
  if (forced === '0' || forced === 'false') return false;
  return /(^|\.)grid5000\.fr\.?$/i.test(hostname());
}

/**
 * Credentials for HTTP Basic auth: env GRID5000_USERNAME + GRID5000_PASSWORD first, then the
 * python-grid5000 file (`username:`, `password:`), which must not be readable by group or others.
 * Inside Grid'5000 none are needed: returns undefined when none are configured there.
 */
export function loadCredentials(opts: { inside?: boolean } = {}): Credentials | undefined {
  const inside = opts.inside ?? insideGrid5000();
  const envUser = process.env.GRID5000_USERNAME;
  const envPass = process.env.GRID5000_PASSWORD;
  if (envUser && envPass) return { username: envUser, password: new Secret(envPass), origin: 'environment (GRID5000_USERNAME/GRID5000_PASSWORD)' };
  const file = credentialsFile();
  let st;
  try {
    st = statSync(file);
  } catch {
    if (inside) return undefined;
    throw new ConfigError(
      'g5k.credentials.missing',
      `no Grid'5000 API credentials: ${file} does not exist and GRID5000_USERNAME/GRID5000_PASSWORD are not set`,
      { file, hint: `create ${file} with "username: <login>" and "password: <password>", then chmod 600 it` },
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw new ConfigError(
      'g5k.credentials.permissions',
      `${file} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8)}); refusing to use it`,
      { file, hint: `chmod 600 ${file}` },
    );
  }
  let doc: unknown;
  try {
    doc = yaml.load(readFileSync(file, 'utf8'));
  } catch {
    // The parser's message may quote the file's content (the password): say only where.
    throw new ConfigError('g5k.credentials.invalid', `${file}: not valid YAML`, { file });
  }
  const rec = (doc ?? {}) as Record<string, unknown>;
  const username = rec.username;
  const password = rec.password;
  if (typeof username !== 'string' || !username || typeof password !== 'string' || !password) {
    if (inside && username === undefined && password === undefined) return undefined;
    throw new ConfigError('g5k.credentials.invalid', `${file}: needs "username:" and "password:" (strings)`, { file });
  }
  return { username, password: new Secret(password), origin: file };
}
