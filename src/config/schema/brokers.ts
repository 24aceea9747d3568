import { z } from 'zod';
import { count, memSize } from './common.js';

export const kafkaSchema = z
  .strictObject({
    version: z.string().regex(/^\d+\.\d+\.\d+$/).default('4.1.1'),
    /** How the broker is installed: `maven` (jars resolved by setup/ from Maven Central), `tarball` (url or file). */
    install: z.enum(['maven', 'tarball']).default('maven'),
    tarball_url: z.string().url().optional(),
    tarball_file: z.string().optional(),
    heap: memSize.default('512m'),
    partitions: count(1, 10000).default(6),
    replication_factor: count(1, 16).default(3),
    min_insync_replicas: count(1, 16).default(2),
    num_network_threads: count(1, 128).default(3),
    num_io_threads: count(1, 256).default(8),
    /** Data directory; the local platform keys it per host. */
    log_dirs: z.string().optional(),
    port: count(1024, 65535).default(9092),
    controller_port: count(1024, 65535).default(9093),
    jmx_exporter_port: count(1024, 65535).default(7071),
  })
  .prefault({});

export const redpandaSchema = z
  .strictObject({
    version: z.string().default('24.3.1'),
    write_caching: z.boolean().default(false),
    /** Never `dev` for benchmarks. */
    mode: z.enum(['production']).default('production'),
    port: count(1024, 65535).default(9092),
    admin_port: count(1024, 65535).default(9644),
    rpc_port: count(1024, 65535).default(33145),
    smp: count(1, 256).optional(),
    memory: memSize.optional(),
  })
  .prefault({});
