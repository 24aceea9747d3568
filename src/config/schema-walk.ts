import { z } from 'zod';

/** Strip wrappers (default, prefault, optional, pipe/transform) to reach the structural schema. */
function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  for (let i = 0; i < 10; i++) {
    const def = (cur as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.innerType) cur = def.innerType as z.ZodType;
    // A preprocess (a transform piped into a schema) validates with its output; a transform after a schema, with its input.
    else if (def.type === 'pipe' && def.in) cur = (def.in instanceof z.ZodTransform ? def.out : def.in) as z.ZodType;
    else break;
  }
  return cur;
}

/** The keys a mapping at `path` may have (for "unknown key" messages). */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cur = unwrap(schema);
  for (const p of path) {
    if (cur instanceof z.ZodObject) {
      const next = (cur.shape as Record<string, z.ZodType>)[String(p)];
      if (!next) return [];
      cur = unwrap(next);
    } else if (cur instanceof z.ZodArray) {
      cur = unwrap(cur.element as z.ZodType);
    } else if (cur instanceof z.ZodRecord) {
      cur = unwrap(cur.valueType as z.ZodType);
    } else return [];
  }
  return cur instanceof z.ZodObject ? Object.keys(cur.shape) : [];
}

