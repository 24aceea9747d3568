/**
 * The sections of an experiment that no plug-in owns: name, roles, runtime, services list,
 * monitoring, energy. Plug-ins (platforms, services, workloads) own theirs; src/experiment/
 * assembles the whole schema from this base and their registries.
 */
import { z } from 'zod';
import { SERVICES } from '../../core/types.js';
import { energySchema } from './energy.js';
import { kubernetesSchema } from './kubernetes.js';
import { monitoringSchema } from './monitoring.js';

export const rolesSchema = z
  .strictObject({
    control: z.number().int().min(0).max(1000).default(1),
    broker: z.number().int().min(0).max(1000).default(0),
    worker: z.number().int().min(0).max(1000).default(1),
  })
  .prefault({});

/**
 * How workloads and services run: `host` (programs on the hosts, Ansible roles) or `k3s` (a
 * Kubernetes cluster made of the hosts, brought up by setup; its `kubernetes` section says which distribution).
 */
export const RUNTIMES = ['host', 'k3s'] as const;

export const EXPERIMENT_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export const baseShape = {
  /** Filled by the loader from the file name; a file may not set it. */
  name: z.string().regex(EXPERIMENT_NAME_RE, 'lowercase letters, digits, "-" and "_" (at most 40)'),
  description: z.string().optional(),
  roles: rolesSchema,
  runtime: z.enum(RUNTIMES).default('host'),
  /** Only with `runtime: k3s` (the cross-checks refuse it on `host`). */
  kubernetes: kubernetesSchema.optional(),
  services: z.preprocess(
    (v, ctx) => {
      // The cluster is not a service: `runtime: k3s` brings it up before the services.
      if (Array.isArray(v) && v.includes('k3s')) {
        ctx.addIssue({ code: 'custom', path: [v.indexOf('k3s')], input: v, message: 'k3s is not a service: the cluster comes with `runtime: k3s` (remove it from services)' });
        return z.NEVER;
      }
      return v;
    },
    z
      .array(z.enum(SERVICES))
      .default([])
      .refine((a) => new Set(a).size === a.length, 'services are listed more than once'),
  ),
  monitoring: monitoringSchema,
  energy: energySchema,
};

/** The base sections alone (the whole experiment schema is src/experiment's). */
export const baseSchema = z.strictObject(baseShape);

/** What every plug-in may read of an experiment besides its own section. */
export type ExperimentBase = z.output<typeof baseSchema>;
