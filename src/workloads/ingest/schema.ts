import { z } from 'zod';
import { count, duration } from '../../config/schema/common.js';

export const ingestSchema = z
  .strictObject({
    broker: z.enum(['kafka', 'redpanda']).default('kafka'),
    driver: z.enum(['native', 'perf-test']).default('native'),
    /** Target rate, messages per second, summed over all instances. */
    load: z.number().positive().max(100_000_000).default(5000),
    message_size: count(1, 10 * 1024 * 1024).default(1024),
    instances: count(1, 1024).default(1),
    partitions: count(1, 10000).default(6),
    replication_factor: count(1, 16).optional(),
    duration: duration({ min: 1, max: 7 * 86400 }).default(30),
    warmup: duration({ min: 0, max: 86400 }).default(5),
    acks: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.enum(['0', '1', 'all'])).default('all'),
    topic: z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/).default('greenrace-ingest'),
    linger_ms: count(0, 60000).default(5),
    batch_size: count(0, 64 * 1024 * 1024).default(65536),
    keys: z.enum(['none', 'random', 'sequential']).default('none'),
    /** Delete the topic after the run. */
    delete_topic: z.boolean().default(true),
  })
  .prefault({});

export type IngestConfig = z.output<typeof ingestSchema>;
