/** Releasing on Grid'5000: delete the experiment's OAR job(s). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfExists } from '../../core/files.js';
import type { PlatformHandle } from '../platform.js';
import type { G5kContext } from './context.js';
import type { JobRef } from './reservation.js';
import { LIVE_STATES } from './reservation.js';
import { STATE_FILE, type G5kState } from './state.js';

/** Delete the job(s) by stored id, else by name at the stored sites. "Already killed" is fine. */
export async function release(ctx: G5kContext, stateDir: string, handle?: PlatformHandle, progress: (line: string) => void = () => {}): Promise<void> {
  const statePath = join(stateDir, STATE_FILE);
  const st = (handle?.data as unknown as G5kState | undefined)?.jobName ? (handle!.data as unknown as G5kState) : readJsonIfExists<G5kState>(statePath);
  if (!st) {
    progress('g5k: no job recorded; nothing to release');
    return;
  }
  const api = ctx.api(st.apiUrl, st.apiTimeout ?? 30, progress);
  const refs: JobRef[] = [...(st.jobs ?? [])];
  for (const site of st.sites ?? []) {
    if (refs.some((r) => r.site === site)) continue;
    const found = await api.listJobs(site, { name: st.jobName, state: LIVE_STATES, ...(st.user ? { user: st.user } : {}) });
    for (const j of found.filter((x) => x.name === st.jobName)) refs.push({ site, uid: j.uid });
    if (!found.length) progress(`g5k: no live job named ${st.jobName} at ${site}`);
  }
  for (const r of refs) {
    const res = await api.deleteJob(r.site, r.uid);
    progress(res === 'deleted' ? `g5k: deleted job ${r.uid} at ${r.site}` : `g5k: job ${r.uid} at ${r.site} was already over`);
  }
  rmSync(statePath, { force: true });
}
