import { z } from 'zod';
import { SERVICES } from '../../core/types.js';
import { platformSection } from '../../platforms/section.js';
import { monitoringSchema } from './monitoring.js';
import { energySchema } from './energy.js';
import { kafkaSchema, redpandaSchema } from './brokers.js';
import { ingestSchema } from './ingest.js';
import { netSchema } from './net.js';

export const rolesSchema = z
  .strictObject({
    control: z.number().int().min(0).max(1000).default(1),
    broker: z.number().int().min(0).max(1000).default(0),
    worker: z.number().int().min(0).max(1000).default(1),
  })
  .prefault({});

/** One experiment file, after `extends` is resolved. Unknown keys are errors everywhere. */
export const experimentSchema = z.strictObject({
  /** Filled by the loader from the file name; a file may not set it. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lowercase letters, digits, "-" and "_" (at most 40)'),
  description: z.string().optional(),
  platform: platformSection,
  roles: rolesSchema,
  runtime: z.enum(['host', 'k3s']).default('host'),
  services: z
    .array(z.enum(SERVICES))
    .default([])
    .refine((a) => new Set(a).size === a.length, 'services are listed more than once'),
  monitoring: monitoringSchema,
  energy: energySchema,
  kafka: kafkaSchema,
  redpanda: redpandaSchema,
  ingest: ingestSchema,
  net: netSchema,
});

export type Experiment = z.output<typeof experimentSchema>;
export type ExperimentInput = z.input<typeof experimentSchema>;
