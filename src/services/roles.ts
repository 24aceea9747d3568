import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../core/paths.js';
import type { ServiceDef } from './registry.js';

/** ansible/roles/<role>, where a service's role lives. */
export const roleDir = (role: string): string => assetPath('ansible', 'roles', role);

/** Services whose Ansible role is not in the repository (yet): setup refuses them by name. */
export function missingRoles(defs: readonly ServiceDef[]): ServiceDef[] {
  return defs.filter((d) => !existsSync(join(roleDir(d.role), 'tasks', 'main.yml')));
}
