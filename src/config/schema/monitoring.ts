import { z } from 'zod';
import { duration } from './common.js';

export const remoteWriteSchema = z.strictObject({
  url: z.string().url(),
  /** Name of an environment variable holding "user:password" for basic auth; never the secret itself. */
  basic_auth_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
});

export const monitoringSchema = z
  .strictObject({
    scrape_interval: duration({ min: 0.5, max: 300 }).default(2),
    retention: z.string().regex(/^\d+[smhdwy]$/, 'a Prometheus duration like "15d"').default('7d'),
    external_labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()).default({}),
    remote_write: z.array(remoteWriteSchema).default([]),
  })
  .prefault({});
