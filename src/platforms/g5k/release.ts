/**
 * Releasing on Grid'5000: cancel the deployments in flight and delete the OAR jobs this experiment
 * recorded in `g5k.json` (by uid), and nothing else: a job greenrace did not record (made by hand, by
 * another run, by another user) is only named, unless `byName` asks to find the user's live jobs with
 * the experiment's job name at its sites (a lost state folder, `killjob --by-name`), each named as it
 * is deleted. A job that is already over gets no DELETE.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfExists } from '../../core/files.js';
import type { PlatformHandle, ReleaseOptions } from '../platform.js';
import type { G5kApi } from './api.js';
import { G5kApiError } from './api.js';
import type { G5kContext } from './context.js';
import type { JobRef } from './reservation.js';
import { LIVE_STATES, liveJobsNamed } from './reservation.js';
import { g5kConfig, lookupCluster, resolveRequest } from './resolve.js';
import { jobSpecs } from './oar.js';
import { STATE_FILE, type G5kState } from './state.js';

export async function release(
  ctx: G5kContext,
  stateDir: string,
  handle?: PlatformHandle,
  progress: (line: string) => void = () => {},
  opts: ReleaseOptions = {},
): Promise<string[]> {
  const statePath = join(stateDir, STATE_FILE);
  const fromHandle = handle?.data as Partial<G5kState> | undefined;
  const st: Partial<G5kState> | undefined = fromHandle?.jobName ? fromHandle : readJsonIfExists<G5kState>(statePath);
  const recorded: JobRef[] = [...(st?.jobs ?? [])];
  const deploying = st?.deploying ?? [];
  const submitting = st?.submitting ?? [];
  if (!recorded.length && !deploying.length && !submitting.length && !opts.byName) {
    progress(st ? 'g5k: no job recorded (none was created); nothing to release' : 'g5k: no job recorded; nothing to release');
    rmSync(statePath, { force: true });
    return [];
  }
  const released: string[] = [];
  const g = opts.byName ? g5kConfig(opts.byName.experiment) : undefined;
  const api = ctx.api(st?.apiUrl ?? g!.api_url, st?.apiTimeout ?? g?.api_timeout ?? 30, progress);
  for (const d of deploying) if (await cancelDeployment(api, d, progress)) released.push(`deployment ${d.uid} at ${d.site}`);
  for (const r of recorded) if (await deleteIfLive(api, r, progress)) released.push(`job ${r.uid} at ${r.site}`);
  if (opts.byName) {
    // The job name and sites from the experiment's configuration, as setup would submit them.
    const r = await resolveRequest(opts.byName.experiment, opts.byName.roles, (cluster, site) => lookupCluster(api, cluster, site));
    const specs = jobSpecs(r.placements, r.job);
    const name = r.job.name;
    const sites = [...new Set([...specs.map((x) => x.site), ...(st?.sites ?? [])])];
    const user = ctx.login(g!.user ?? st?.user, api);
    for (const site of sites) {
      const found = (await liveJobsNamed(api, site, name, user)).filter((j) => !recorded.some((r) => r.site === site && r.uid === j.uid));
      if (!found.length) progress(`g5k: no live job of ${user} named ${name} at ${site}`);
      for (const j of found) {
        progress(`g5k: found job ${j.uid} (${j.state}) of ${user} named ${name} at ${site}; deleting it`);
        if (await deleteIfLive(api, { site, uid: j.uid }, progress, j.state)) released.push(`job ${j.uid} at ${site}`);
      }
    }
  } else if (st?.jobName && st.user) {
    // Say so when a live job of that name exists that this experiment did not record (not touched),
    // e.g. one a setup submitted but stopped (crashed) before recording its id.
    for (const site of [...new Set([...(st.sites ?? []), ...submitting.map((x) => x.site)])]) {
      const others = (await liveJobsNamed(api, site, st.jobName, st.user).catch(() => [])).filter((j) => !recorded.some((r) => r.site === site && r.uid === j.uid));
      if (others.length)
        progress(
          `g5k: left alone: live job(s) ${others.map((j) => j.uid).join(', ')} named ${st.jobName} at ${site}, not recorded by this experiment (killjob --by-name deletes them)`,
        );
    }
  }
  rmSync(statePath, { force: true });
  return released;
}

/** DELETE a job that is still live; true when it was. */
async function deleteIfLive(api: G5kApi, r: JobRef, progress: (line: string) => void, known?: string): Promise<boolean> {
  let state = known;
  if (!state) {
    try {
      state = (await api.getJob(r.site, r.uid)).state;
    } catch (e) {
      if (e instanceof G5kApiError && e.status === 404) {
        progress(`g5k: job ${r.uid} at ${r.site} is unknown to OAR; nothing to delete`);
        return false;
      }
      throw e;
    }
  }
  if (!LIVE_STATES.includes(state as (typeof LIVE_STATES)[number])) {
    progress(`g5k: job ${r.uid} at ${r.site} is already ${state}; no DELETE needed`);
    return false;
  }
  const res = await api.deleteJob(r.site, r.uid);
  progress(res === 'deleted' ? `g5k: deleted job ${r.uid} at ${r.site}` : `g5k: job ${r.uid} at ${r.site} was already over`);
  return res === 'deleted';
}

/** Cancel a deployment still in flight; true when it was. */
async function cancelDeployment(api: G5kApi, d: { site: string; uid: string }, progress: (line: string) => void): Promise<boolean> {
  try {
    const dep = await api.getDeployment(d.site, d.uid);
    if (dep.status !== 'waiting' && dep.status !== 'processing') return false;
    await api.deleteDeployment(d.site, d.uid);
    progress(`g5k: cancelled deployment ${d.uid} at ${d.site}`);
    return true;
  } catch (e) {
    if (e instanceof G5kApiError && e.status === 404) return false;
    throw e;
  }
}
