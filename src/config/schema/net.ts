import { z } from 'zod';
import { count, duration } from './common.js';

export const netSchema = z
  .strictObject({
    tool: z.enum(['iperf3', 'uperf', 'netperf', 'sockperf']).default('iperf3'),
    server_role: z.enum(['control', 'broker', 'worker']).default('worker'),
    client_role: z.enum(['control', 'broker', 'worker']).default('worker'),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    streams: count(1, 128).default(1),
    duration: duration({ min: 1, max: 86400 }).default(10),
    message_size: count(1, 64 * 1024 * 1024).optional(),
    bitrate: z.string().regex(/^\d+(\.\d+)?[KMG]?$/).optional(),
    reverse: z.boolean().default(false),
    pcp: z.boolean().default(false),
  })
  .prefault({});
