/**
 * Releasing existing hosts gives nothing back: greenrace created none of them. The services on them
 * are destroyed by killjob (destroy.yml) before this runs.
 */
import type { PlatformHandle } from '../platform.js';
import type { StaticHandleData } from './handle.js';

export async function release(_stateDir: string, handle?: PlatformHandle, progress: (line: string) => void = () => {}): Promise<string[]> {
  const n = handle?.hosts.length ?? 0;
  const inv = (handle?.data as Partial<StaticHandleData> | undefined)?.inventory;
  progress(`static: nothing to release${n ? `; ${n} hosts${inv ? ` of ${inv}` : ''} stay as they are` : ''}`);
  return [];
}
