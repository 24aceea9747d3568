/** `platform.local`: network namespaces on this machine. */
import { z } from 'zod';

export const localPlatformSchema = z.strictObject({
  /** The /24 the namespace hosts get; default derived from the experiment name (10.77.X.0/24). */
  subnet: z
    .string()
    .regex(/^10\.\d{1,3}\.\d{1,3}\.0\/24$/, 'a /24 in 10.0.0.0/8, like "10.77.3.0/24"')
    .optional(),
});

/** The section as it sits under `platform.local` (always present, defaults filled). */
export const localSection = localPlatformSchema.prefault({});

export type LocalPlatformConfig = z.output<typeof localPlatformSchema>;
