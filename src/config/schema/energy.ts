import { z } from 'zod';

export const powerModelSchema = z.strictObject({
  idle_watts: z.number().min(0).max(5000),
  max_watts: z.number().min(0).max(5000),
});

export const energySchema = z
  .strictObject({
    /** Energy sources to consult, in preference order; default all that apply (kwollect only on g5k). */
    sources: z
      .array(z.enum(['scaphandre', 'kwollect', 'rapl', 'model']))
      .min(1)
      .default(['scaphandre', 'kwollect', 'rapl', 'model'])
      .refine((a) => new Set(a).size === a.length, 'sources are listed more than once'),
    /** Power model used when a host has no sensor; per host overrides in `hosts`. */
    model: powerModelSchema.optional(),
    hosts: z.record(z.string(), powerModelSchema).default({}),
    /** The one RAPL zone counted (zones overlap: package contains core). */
    rapl_zone: z.enum(['package', 'dram', 'core', 'uncore', 'psys']).default('package'),
    /** A source's figure must cover this fraction of the window to be preferred over the next source. */
    min_coverage: z.number().min(0).max(1).default(0.8),
    scaphandre: z
      .strictObject({
        /** A local file to install as the scaphandre binary. */
        binary: z.string().optional(),
        /** Or a URL of a release binary. */
        url: z.string().url().optional(),
        /** The version wanted: 1.0.0 is the only 1.0.x on the crate registry (setup/install-scaphandre.sh builds it). */
        version: z.string().default('1.0.0'),
      })
      .prefault({}),
  })
  .prefault({});
