/** The local platform: N hosts as network namespaces on this machine, each with its own sshd. */
import type { PlatformModule } from '../platform.js';
import { localSection } from './schema.js';

const local: PlatformModule<'local', typeof localSection> = {
  kind: 'local',
  description: 'network namespaces on this machine, one sshd each (needs root)',
  schema: localSection,
  kubernetes: ['upstream'],
  create: async () => {
    const [{ plan }, { reserve }, { status }, { release }] = await Promise.all([import('./plan.js'), import('./reserve.js'), import('./status.js'), import('./release.js')]);
    return { kind: 'local', plan, reserve, status, release };
  },
  energySources: async () => (await import('./energy.js')).energySources(),
};

export default local;
