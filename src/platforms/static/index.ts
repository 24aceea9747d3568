/** The static platform: existing hosts from an Ansible inventory; nothing is created or released. */
import type { PlatformModule } from '../platform.js';
import { crossCheck, staticSection } from './schema.js';

const staticHosts: PlatformModule<'static', typeof staticSection> = {
  kind: 'static',
  description: 'existing hosts from an Ansible YAML inventory (hosts.yaml)',
  schema: staticSection,
  kubernetes: ['k3s', 'upstream'],
  crossCheck,
  create: async () => {
    const [{ plan }, { reserve, recover }, { status }, { release }] = await Promise.all([import('./plan.js'), import('./reserve.js'), import('./status.js'), import('./release.js')]);
    return { kind: 'static', plan, reserve, status, release, recover };
  },
  energySources: async () => (await import('./energy.js')).energySources(),
};

export default staticHosts;
