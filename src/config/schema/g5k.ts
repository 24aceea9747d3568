import { z } from 'zod';

/** Grid'5000: where and how to reserve. Filled in by the Grid'5000 platform issue. */
export const g5kPlatformSchema = z.strictObject({
  site: z.string().min(1).optional(),
  cluster: z.string().min(1).optional(),
  walltime: z.string().regex(/^\d{1,3}:\d{2}(:\d{2})?$/, 'HH:MM or HH:MM:SS').default('01:00:00'),
  queue: z.enum(['default', 'production', 'besteffort', 'testing']).default('default'),
  project: z.string().optional(),
  api_url: z.string().url().default('https://api.grid5000.fr/stable'),
});
