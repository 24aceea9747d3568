/**
 * The whole experiment schema, assembled from the base sections (src/config/schema/base.ts) and
 * the sections the plug-ins own: the platform's, the services' (services/registry.ts) and the
 * workloads' (workloads/registry.ts), and the campaigns' (campaigns/schema.ts: sweep, search). Unknown keys are errors everywhere.
 */
import { z } from 'zod';
import { baseShape } from '../config/schema/base.js';
import { CAMPAIGN_SECTIONS } from '../campaigns/schema.js';
import { platformSection } from '../platforms/section.js';
import { SERVICE_SECTIONS } from '../services/registry.js';
import { WORKLOAD_SECTIONS } from '../workloads/registry.js';

const { name, description, roles, runtime, kubernetes, services, monitoring, energy } = baseShape;

export const experimentSchema = z.strictObject({
  name,
  description,
  platform: platformSection,
  roles,
  runtime,
  kubernetes,
  services,
  monitoring,
  energy,
  ...SERVICE_SECTIONS,
  ...WORKLOAD_SECTIONS,
  ...CAMPAIGN_SECTIONS,
});

/** One experiment, validated, every default filled in. Only src/experiment and above see it whole. */
export type Experiment = z.output<typeof experimentSchema>;
export type ExperimentInput = z.input<typeof experimentSchema>;
