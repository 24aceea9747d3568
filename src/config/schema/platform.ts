import { z } from 'zod';
import { g5kPlatformSchema } from './g5k.js';

export const localPlatformSchema = z.strictObject({
  /** The /24 the namespace hosts get; default derived from the experiment name (10.77.X.0/24). */
  subnet: z
    .string()
    .regex(/^10\.\d{1,3}\.\d{1,3}\.0\/24$/, 'a /24 in 10.0.0.0/8, like "10.77.3.0/24"')
    .optional(),
});

export const staticPlatformSchema = z.strictObject({
  /** An Ansible YAML inventory in the hosts.yaml format; relative to the experiment file. */
  inventory: z.string().min(1).optional(),
  /** Check each host answers over SSH before using it. */
  check_reachability: z.boolean().default(true),
  /** Seconds to wait for each host's SSH answer. */
  connect_timeout: z.number().int().min(1).max(120).default(5),
});

export const platformSchema = z
  .strictObject({
    kind: z.enum(['local', 'static', 'g5k']).default('local'),
    local: localPlatformSchema.prefault({}),
    static: staticPlatformSchema.prefault({}),
    g5k: g5kPlatformSchema.optional(),
  })
  .prefault({});
