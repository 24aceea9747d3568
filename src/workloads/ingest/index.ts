import type { Fail } from '../../config/cross-checks.js';
import type { Workload } from '../contract.js';
import { INGEST_FLAGS } from './flags.js';
import { ingestCsvRow } from './csv.js';
import { ingestSchema, type IngestConfig } from './schema.js';
import type { IngestArgs, IngestOutcome } from './run.js';


/** `ingest`: load generators on the workers at a target rate against the brokers; throughput, latency and energy. */
export const ingest = {
  name: 'ingest',
  description: 'load generators on the workers at a target rate against the brokers; throughput, latency and energy',
  section: { key: 'ingest' as const, schema: ingestSchema },
  flags: INGEST_FLAGS,
  // The generators run on the workers with this machine's node and dist/ (the local platform's
  // shared filesystem; setup's hosts); perf-test uses the kafka role's jars (BrokerAccess.clientLibs).
  tools: () => [],
  crossCheck: (e: { roles: { broker: number }; ingest?: IngestConfig }, fail: Fail) => {
    const rf = e.ingest?.replication_factor;
    if (rf !== undefined && rf > e.roles.broker) fail('ingest.replication_factor', `is ${rf} but there are only ${e.roles.broker} broker hosts`);
  },
  run: async (ctx) => (await import('./run.js')).runIngest(ctx),
  csv: { when: 'always', row: ingestCsvRow },
  // The generator reports the honest backlog (unsent + unacknowledged) and latency percentiles; no consumer runs.
  campaign: { loadPath: 'ingest.load', unit: 'msg/s', reportsBacklog: true, reportsP99: true, hasConsumer: false, rampPath: 'ingest.ramp' },
} satisfies Workload<IngestConfig, IngestArgs, IngestOutcome>;
