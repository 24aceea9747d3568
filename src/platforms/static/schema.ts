/** `platform.static`: hosts someone already owns, from an Ansible YAML inventory. */
import { z } from 'zod';
import type { SectionFail } from '../platform.js';

export const staticPlatformSchema = z.strictObject({
  /** An Ansible YAML inventory in the hosts.yaml format; relative to the experiment file. */
  inventory: z.string().min(1).optional(),
  /** Check each host answers over SSH before using it. */
  check_reachability: z.boolean().default(true),
  /** Seconds to wait for each host's SSH answer. */
  connect_timeout: z.number().int().min(1).max(120).default(5),
});

/** The section as it sits under `platform.static` (always present, defaults filled). */
export const staticSection = staticPlatformSchema.prefault({});

export type StaticPlatformConfig = z.output<typeof staticPlatformSchema>;

export function crossCheck(section: StaticPlatformConfig, fail: SectionFail): void {
  if (!section.inventory) fail('inventory', 'the static platform needs an inventory file (or --inventory FILE)');
}
