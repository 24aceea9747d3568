import { z } from 'zod';

export const powerModelSchema = z.strictObject({
  idle_watts: z.number().min(0).max(5000),
  max_watts: z.number().min(0).max(5000),
});

export const energySchema = z
  .strictObject({
    /** Power model used when a host has no sensor; per host overrides in `hosts`. */
    model: powerModelSchema.optional(),
    hosts: z.record(z.string(), powerModelSchema).default({}),
    scaphandre: z
      .strictObject({
        /** A local file to install as the scaphandre binary. */
        binary: z.string().optional(),
        /** Or a URL of a release binary. */
        url: z.string().url().optional(),
        version: z.string().default('1.0.2'),
      })
      .prefault({}),
  })
  .prefault({});
