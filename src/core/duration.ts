/** Durations in configs and flags: a number of seconds, or a string like `30s`, `5m`, `1h30m`, `500ms`. */
const UNIT: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * (UNIT[m[2]!] ?? 0);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) return undefined;
  return total;
}

/** Prometheus-style duration string for a number of seconds (e.g. `2s`, `1500ms`). */
export function promDuration(seconds: number): string {
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${Math.round(seconds * 1000)}ms`;
}
