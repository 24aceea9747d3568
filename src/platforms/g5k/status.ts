/** Status of g5k hosts: the state of each site's job (one API call per job), then SSH to each node. */
import type { HostStatus, PlatformHandle } from '../platform.js';
import { G5kApiError } from './api.js';
import type { G5kContext } from './context.js';
import type { G5kState } from './state.js';

export async function status(ctx: G5kContext, handle: PlatformHandle): Promise<HostStatus[]> {
  const st = handle.data as unknown as G5kState;
  const api = ctx.api(st.apiUrl, st.apiTimeout ?? 30, () => {});
  const jobStates = new Map<string, string>();
  for (const j of st.jobs ?? []) {
    try {
      jobStates.set(j.site, (await api.getJob(j.site, j.uid)).state);
    } catch (e) {
      jobStates.set(j.site, e instanceof G5kApiError && e.status === 404 ? 'unknown to OAR' : `API error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return Promise.all(
    handle.hosts.map(async (h) => {
      const site = String(h.vars?.g5k_site ?? '');
      const js = jobStates.get(site);
      const base = { host: h.name, address: h.address, roles: [...h.roles] };
      if (js && js !== 'running') return { ...base, reachable: false, detail: `job at ${site} is ${js}` };
      const jump = st.jump && !(st.direct ?? []).includes(h.name) ? st.jump : undefined;
      const ok = await ctx.sshCheck({ address: h.address, user: h.user, ...(jump ? { jump } : {}), ...(h.keyFile ? { keyFile: h.keyFile } : {}), ...(st.controlDir ? { controlDir: st.controlDir } : {}), ...(st.knownHosts ? { knownHosts: st.knownHosts } : {}) }, 5);
      return { ...base, reachable: ok, detail: `job ${js ?? '?'}${ok ? '' : ', no SSH answer'}` };
    }),
  );
}

