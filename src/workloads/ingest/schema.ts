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
    /**
     * Before the generators start, write back the broker hosts' dirty pages (`sync` on each), so a
     * run does not start while the kernel writes back what the runs before it left in the page
     * cache; the record gets what was written back and how long it took (ingest/pagecache.ts).
     */
    sync_brokers: z.boolean().default(true),
    /** Delete the topic after the run. */
    delete_topic: z.boolean().default(true),
    /**
     * A ramp inside one run: the measurement window is these steps in turn, each at its own total
     * load (msg/s) for its duration; the warm-up runs at the first step's load, and `load` and
     * `duration` are not used. The record gets `results.steps` (achieved, p99, backlog per step).
     * Native driver only.
     */
    ramp: z.array(z.strictObject({ load: z.number().positive().max(100_000_000), duration: duration({ min: 0.5, max: 86400 }) })).min(2, 'a ramp has at least 2 steps').optional(),
  })
  .refine((p) => !(p.ramp && p.driver !== 'native'), { message: 'a ramp needs the native driver (perf-test has one rate per run)', path: ['ramp'] })
  .prefault({});

export type IngestConfig = z.output<typeof ingestSchema>;
