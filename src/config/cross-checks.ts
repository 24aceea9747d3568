import { ConfigError } from '../core/errors.js';
import { crossCheckPlatform } from '../platforms/section.js';
import type { Experiment } from './schema/experiment.js';

/** Checks that span several keys. `where(path)` names the file or flag a key came from. */
export function crossChecks(e: Experiment, where: (path: string) => string): void {
  const fail = (path: string, msg: string): never => {
    throw new ConfigError('config.invalid', `${where(path)}: ${msg}`, { path });
  };
  const r = e.roles;
  const s = new Set(e.services);
  if (r.control + r.broker + r.worker < 1) fail('roles', 'at least one host is needed in some role');
  if ((s.has('prometheus') || s.has('pushgateway')) && r.control < 1)
    fail('roles.control', 'prometheus and pushgateway run on the control host: roles.control must be at least 1');
  if ((s.has('kafka') || s.has('redpanda')) && r.broker < 1) fail('roles.broker', 'kafka and redpanda need at least one broker host');
  if (s.has('kafka') && s.has('redpanda')) fail('services', 'kafka and redpanda cannot both run on the broker hosts (they share ports)');
  if (e.runtime === 'k3s') fail('runtime', 'the k3s runtime is not available in this version; use runtime: host');
  if (s.has('k3s') && e.runtime !== 'k3s') fail('services', 'k3s is deployed by `runtime: k3s`, not listed as a service');
  if (s.has('kafka')) {
    if (e.kafka.replication_factor > r.broker)
      fail('kafka.replication_factor', `is ${e.kafka.replication_factor} but there are only ${r.broker} broker hosts`);
    if (e.kafka.min_insync_replicas > e.kafka.replication_factor)
      fail('kafka.min_insync_replicas', `is ${e.kafka.min_insync_replicas}, above kafka.replication_factor (${e.kafka.replication_factor})`);
  }
  const rf = e.ingest.replication_factor;
  if (rf !== undefined && rf > r.broker) fail('ingest.replication_factor', `is ${rf} but there are only ${r.broker} broker hosts`);
  if (e.energy.model && e.energy.model.max_watts < e.energy.model.idle_watts)
    fail('energy.model.max_watts', 'must not be below energy.model.idle_watts');
  crossCheckPlatform(e.platform, fail);
}
