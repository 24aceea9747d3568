import { ConfigError } from '../core/errors.js';
import type { ExperimentBase } from './schema/base.js';

/** Fails a check: one ConfigError naming the file or flag (`where`) and the key. */
export type Fail = (path: string, msg: string) => never;

export function failer(where: (path: string) => string): Fail {
  return (path, msg) => {
    throw new ConfigError('config.invalid', `${where(path)}: ${msg}`, { path });
  };
}

/** Checks across the base sections (roles, runtime, services, energy). Plug-ins add their own. */
export function baseCrossChecks(e: ExperimentBase, fail: Fail): void {
  const r = e.roles;
  const s = new Set(e.services);
  if (r.control + r.broker + r.worker < 1) fail('roles', 'at least one host is needed in some role');
  if ((s.has('prometheus') || s.has('pushgateway')) && r.control < 1)
    fail('roles.control', 'prometheus and pushgateway run on the control host: roles.control must be at least 1');
  if ((s.has('kafka') || s.has('redpanda')) && r.broker < 1) fail('roles.broker', 'kafka and redpanda need at least one broker host');
  if (s.has('kafka') && s.has('redpanda')) fail('services', 'kafka and redpanda cannot both run on the broker hosts (they share ports)');
  if (e.runtime !== 'k3s' && e.kubernetes !== undefined) fail('kubernetes', `applies to runtime: k3s only (runtime is ${e.runtime}); remove the section or set runtime: k3s`);
  if (e.energy.model && e.energy.model.max_watts < e.energy.model.idle_watts)
    fail('energy.model.max_watts', 'must not be below energy.model.idle_watts');
}
