/**
 * The intent file `<stateDir>/local/intent.json`: written atomically *before* anything is created,
 * listing every name the reservation will create (a superset while hosts are added or removed), so
 * `release(stateDir)` can clean up after a crash or a SIGKILL halfway through `reserve`.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../../core/files.js';
import type { LocalAllocation } from './names.js';

export interface Intent {
  version: 1;
  phase: 'reserving' | 'ready';
  allocation: LocalAllocation;
  /** Hosts (from an earlier allocation) being removed by a scale-down; still to clean if it crashes. */
  removing: LocalAllocation['hosts'];
  updatedAt: string;
}

export const intentPath = (stateDir: string): string => join(stateDir, 'local', 'intent.json');

export function readIntent(stateDir: string): Intent | undefined {
  try {
    const i = readJsonIfExists<Intent>(intentPath(stateDir));
    return i && i.version === 1 && i.allocation && Array.isArray(i.allocation.hosts) ? i : undefined;
  } catch {
    return undefined;
  }
}

export function writeIntent(stateDir: string, allocation: LocalAllocation, phase: Intent['phase'], removing: Intent['removing'] = []): void {
  const intent: Intent = { version: 1, phase, allocation, removing, updatedAt: new Date().toISOString() };
  writeJsonAtomic(intentPath(stateDir), intent, 0o600);
}

export function removeIntent(stateDir: string): void {
  const p = intentPath(stateDir);
  if (existsSync(p)) rmSync(p, { force: true });
}
