/** The Grid'5000 platform: nodes reserved with OAR, deployed with Kadeploy, energy from Kwollect. */
import type { PlatformModule } from '../platform.js';
import { crossCheck, g5kSection } from './schema.js';

const g5k: PlatformModule<'g5k', typeof g5kSection> = {
  kind: 'g5k',
  description: "Grid'5000 nodes through its REST API (OAR jobs, Kadeploy, Kwollect)",
  schema: g5kSection,
  kubernetes: ['k3s', 'upstream'],
  crossCheck,
  create: async () => new (await import('./platform.js')).G5kPlatform(),
  energySources: async (handle, section) => (await import('./energy.js')).energySources(handle, section),
};

export default g5k;
