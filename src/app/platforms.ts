/** The platform kinds (src/platforms/registry.ts) for the fronts' choices (`setup --platform`). */
export { PLATFORM_KINDS, type PlatformKind } from '../platforms/registry.js';
