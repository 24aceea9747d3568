import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';

/** Seconds, given as a number or a string such as `30s`, `5m`, `1h`. Normalised to seconds. */
export const duration = (opts: { min?: number; max?: number } = {}) =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const s = parseDuration(v);
      if (s === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a duration: ${JSON.stringify(v)} (use seconds, or e.g. "30s", "5m", "1h")` });
        return z.NEVER;
      }
      if (opts.min !== undefined && s < opts.min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${opts.min} s (got ${s} s)` });
        return z.NEVER;
      }
      if (opts.max !== undefined && s > opts.max) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${opts.max} s (got ${s} s)` });
        return z.NEVER;
      }
      return s;
    });

export const count = (min: number, max: number) => z.number().int().min(min).max(max);

/** A memory size for a JVM or a service: `512m`, `1g`, `2G`. */
export const memSize = z.string().regex(/^\d+[kKmMgG]$/, 'a size like "512m" or "2g"');
