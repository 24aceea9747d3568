/**
 * Secrets never reach the shell's screen: values under secret-looking keys are masked, and
 * credentials inside URLs (`https://user:pass@host`) are replaced. Names of environment variables
 * that hold a secret (`basic_auth_env`) are not secrets and stay visible.
 */
export const REDACTED = '‹redacted›';

const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|auth|cookie|session[_-]?key)/i;
/** Keys that name where a secret is, not the secret. */
const SECRET_REFERENCE = /(_env|_file|_path|_var)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !SECRET_REFERENCE.test(key);
}

/** `scheme://user:password@host` → `scheme://user:‹redacted›@host`; also `?token=...` style query values. */
export function redactString(s: string): string {
  return s
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]+):[^\s/@]+@/gi, `$1:${REDACTED}@`)
    .replace(/([?&](?:access_token|token|password|passwd|secret|api_key|apikey|key)=)[^&\s#]+/gi, `$1${REDACTED}`);
}

/** A deep copy of `v` with secrets masked. */
export function redact<T>(v: T): T {
  return walk(v, undefined) as T;
}

function walk(v: unknown, key: string | undefined): unknown {
  if (key !== undefined && isSecretKey(key) && v !== null && v !== undefined && typeof v !== 'object') return REDACTED;
  if (typeof v === 'string') return redactString(v);
  if (Array.isArray(v)) return v.map((x) => walk(x, key !== undefined && isSecretKey(key) ? key : undefined));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      out[k] = key !== undefined && isSecretKey(key) && (x === null || typeof x !== 'object') ? REDACTED : walk(x, k);
    }
    return out;
  }
  return v;
}

/** Redact every secret value found in `secrets` from a message (e.g. an error that echoed one). */
export function scrubMessage(msg: string, secrets: Iterable<string>): string {
  let out = redactString(msg);
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join(REDACTED);
  return out;
}

/** The secret values in a configuration (for scrubbing messages). */
export function secretValues(v: unknown, key?: string, acc: Set<string> = new Set()): Set<string> {
  if (typeof v === 'string') {
    if (key !== undefined && isSecretKey(key)) acc.add(v);
    const m = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:([^\s/@]+)@/i.exec(v);
    if (m) acc.add(m[1]!);
  } else if (Array.isArray(v)) v.forEach((x) => secretValues(x, key, acc));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) secretValues(x, k, acc);
  return acc;
}
