import { PlatformError } from '../../core/errors.js';
import { G5kApi, G5kApiError } from './api.js';
import type { Clock } from './clock.js';
import { formatEpoch, formatSpan } from './clock.js';
import { parseOarRefusal } from './oar.js';
import type { SiteJobSpec } from './oar.js';
import type { Job, JobState } from './types.js';

export const LIVE_STATES: JobState[] = ['waiting', 'hold', 'launching', 'running'];

export interface JobRef {
  site: string;
  uid: number;
}

export interface ReservationOptions {
  api: G5kApi;
  clock: Clock;
  /** Login whose jobs are looked at (required by the listing to be precise). */
  user?: string;
  progress: (line: string) => void;
  signal?: AbortSignal;
  /** Jobs of an earlier setup; reused when still alive. */
  previous?: JobRef[];
  /** Called as soon as a job id is known, before waiting (so a crash can still release it). */
  onJob?: (ref: JobRef) => void;
  /** Longest sleep between two polls of a waiting job, s. */
  maxPollSeconds?: number;
}

/**
 * Find the live job named `spec.name` at `spec.site` (the earlier one, by id or name) or submit one.
 * Two live jobs of that name is an error naming both.
 */
export async function findOrSubmit(spec: SiteJobSpec, o: ReservationOptions): Promise<{ job: Job; reused: boolean }> {
  const prev = o.previous?.find((r) => r.site === spec.site);
  if (prev) {
    try {
      const job = await o.api.getJob(spec.site, prev.uid);
      if (LIVE_STATES.includes(job.state)) return { job, reused: true };
      o.progress(`job ${prev.uid} at ${spec.site} is ${job.state}; looking for another`);
    } catch (e) {
      if (!(e instanceof G5kApiError && e.status === 404)) throw e;
    }
  }
  const existing = await liveJobsNamed(spec, o);
  if (existing) return { job: existing, reused: true };
  for (let attempt = 1; ; attempt++) {
    try {
      const job = await o.api.submitJob(spec.site, spec.submission);
      return { job, reused: false };
    } catch (e) {
      if (e instanceof G5kApiError && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 403) {
        throw refusal(spec, e);
      }
      // No answer, or a 5xx: the job may or may not exist. Look before submitting again.
      if (!(e instanceof G5kApiError) || attempt >= 3 || (e.status !== 0 && e.status < 500)) throw e;
      o.progress(`submission at ${spec.site} got no clear answer (${e.message}); checking whether the job exists`);
      await o.clock.sleep(5 * attempt, o.signal);
      const found = await liveJobsNamed(spec, o);
      if (found) return { job: found, reused: false };
    }
  }
}

async function liveJobsNamed(spec: SiteJobSpec, o: ReservationOptions): Promise<Job | undefined> {
  const jobs = await o.api.listJobs(spec.site, { name: spec.name, state: LIVE_STATES, ...(o.user ? { user: o.user } : {}) });
  // Some API versions filter loosely: keep exact name matches.
  const mine = jobs.filter((j) => j.name === spec.name && LIVE_STATES.includes(j.state));
  if (mine.length > 1) {
    throw new PlatformError(
      'g5k.job.duplicate',
      `${mine.length} live jobs named ${spec.name} at ${spec.site}: ${mine.map((j) => `${j.uid} (${j.state})`).join(', ')}; delete the extra ones (oardel ${mine
        .slice(1)
        .map((j) => j.uid)
        .join(' ')}) or run killjob`,
    );
  }
  return mine[0];
}

function refusal(spec: SiteJobSpec, e: G5kApiError): PlatformError {
  const r = parseOarRefusal(e.serverMessage || e.message);
  if (r.kind === 'could_run_at')
    return new PlatformError(
      'g5k.job.could_run_at',
      `OAR refused the job at ${spec.site}: the resources are not free at the requested time; this reservation could run at ${r.date}`,
      { cause: e, hint: `set platform.g5k.reservation: "${r.date}" (or --set platform.g5k.reservation="${r.date}") and run setup again` },
    );
  if (r.kind === 'too_old')
    return new PlatformError('g5k.job.too_old', `OAR refused the job at ${spec.site}: the reservation date is in the past (${r.message})`, { cause: e });
  return new PlatformError('g5k.job.rejected', `OAR refused the job at ${spec.site}: ${r.message}`, { cause: e, details: [`resources: ${spec.resources}`] });
}

/**
 * Wait until the job runs. Polls with backoff (5 s, 10 s, ... up to 60 s) and, while OAR has a
 * scheduled start further away, sleeps until close to it (at most `maxPollSeconds`, default 300 s).
 * Reports the state and the scheduled start whenever they change. A job in `error` fails with OAR's message.
 */
export async function waitRunning(site: string, first: Job, o: ReservationOptions): Promise<Job> {
  let job = first;
  let lastNote = '';
  const maxPoll = o.maxPollSeconds ?? 300;
  for (let n = 1; ; n++) {
    if (job.state === 'running') return job;
    if (job.state === 'error' || job.state === 'terminated' || job.state === 'finishing') {
      const events = (job.events ?? []).map((ev) => ev.description).filter(Boolean).slice(-3);
      throw new PlatformError(
        'g5k.job.failed',
        `job ${job.uid} at ${site} is ${job.state}${job.message ? `: ${job.message}` : ''}`,
        { details: events },
      );
    }
    const now = o.clock.now();
    const sched = job.scheduled_at ?? undefined;
    const note =
      job.state +
      (sched ? `, scheduled start ${formatEpoch(sched)}${sched > now ? ` (in ${formatSpan(sched - now)})` : ''}` : ', no start time yet');
    if (note.replace(/ \(in .*\)$/, '') !== lastNote.replace(/ \(in .*\)$/, '')) o.progress(`job ${job.uid} at ${site}: ${note}`);
    lastNote = note;
    let delay = job.state === 'launching' ? 5 : Math.min(5 * n, 60);
    if (job.state === 'waiting' && sched && sched - now > delay) delay = Math.min(sched - now, maxPoll);
    await o.clock.sleep(delay, o.signal);
    job = await o.api.getJob(site, job.uid);
  }
}

/**
 * Reserve one job per site: reuse or submit each, then wait for all. If a submission fails, the jobs
 * this call submitted are deleted again (jobs that were reused are left alone).
 */
export async function reserveJobs(specs: SiteJobSpec[], o: ReservationOptions): Promise<{ jobs: Job[]; refs: JobRef[] }> {
  const got: { spec: SiteJobSpec; job: Job; reused: boolean }[] = [];
  try {
    for (const spec of specs) {
      const r = await findOrSubmit(spec, o);
      o.onJob?.({ site: spec.site, uid: r.job.uid });
      o.progress(r.reused ? `reattached to job ${r.job.uid} (${spec.name}) at ${spec.site}` : `submitted job ${r.job.uid} (${spec.name}) at ${spec.site}`);
      got.push({ spec, ...r });
    }
  } catch (e) {
    for (const g of got.filter((x) => !x.reused)) {
      try {
        await o.api.deleteJob(g.spec.site, g.job.uid);
      } catch {
        o.progress(`could not delete job ${g.job.uid} at ${g.spec.site} after the failure; run killjob`);
      }
    }
    throw e;
  }
  const jobs: Job[] = [];
  for (const g of got) {
    const running = await waitRunning(g.spec.site, g.job, o);
    // The listing and the submission answer may lack assigned_nodes: GET the item.
    jobs.push(running.assigned_nodes?.length ? running : await o.api.getJob(g.spec.site, running.uid));
  }
  return { jobs, refs: got.map((g) => ({ site: g.spec.site, uid: g.job.uid })) };
}
