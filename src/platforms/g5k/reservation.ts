/**
 * OAR jobs of a reservation: find the experiment's live job (the recorded one, else one of the user's
 * with its name) or submit one, then wait until it runs. Waiting survives API outages and follows the
 * server's clock; it ends on a definite job state, the wait timeout (the job is kept) or Ctrl-C (the
 * job is kept).
 */
import { InterruptedError, PlatformError } from '../../core/errors.js';
import { ReservationKeptError } from '../platform.js';
import { G5kApi, G5kApiError } from './api.js';
import type { Clock } from './clock.js';
import { formatEpoch, formatSpan } from './clock.js';
import { parseOarRefusal } from './oar.js';
import type { SiteJobSpec } from './oar.js';
import type { Job, JobState } from './types.js';

/** Jobs that hold or will hold nodes. */
export const LIVE_STATES: JobState[] = ['waiting', 'hold', 'launching', 'running', 'suspended', 'resuming'];

/** A poll lands this long after OAR's scheduled start, so the job has had time to leave `waiting`. */
export const AFTER_SCHEDULED_S = 3;
/** Longest sleep between two reads while the API does not answer. */
export const OUTAGE_MAX_POLL_S = 60;

export interface JobRef {
  site: string;
  uid: number;
}

export interface ReservationOptions {
  api: G5kApi;
  clock: Clock;
  /** Login whose jobs are looked at: listings are filtered by it, and so is what they return. */
  user: string;
  progress: (line: string) => void;
  signal?: AbortSignal;
  /** Jobs of an earlier setup; reused when still alive. */
  previous?: JobRef[];
  /** Called as soon as a job id is known, before waiting (so a crash can still release it). */
  onJob?: (ref: JobRef) => void;
  /** Called before a job is submitted at `site` (`true`) and when the submission was refused (`false`). */
  onSubmit?: (site: string, submitting: boolean) => void;
  /** Longest sleep between two polls of a waiting job, s. */
  maxPollSeconds?: number;
  /** How long waiting may last (s of the client's clock) before it stops and keeps the job; default no bound. */
  waitTimeout?: number;
  /** What the user runs to reattach and to give the job back, for messages (`entrypoint setup x`). */
  commands?: { setup: string; killjob: string };
}

const isTransient = (e: unknown): boolean => e instanceof G5kApiError && (e.status === 0 || e.status >= 500);

/** The user's live jobs with `name` at `site` (exact name and user: some API versions filter loosely). */
export async function liveJobsNamed(api: G5kApi, site: string, name: string, user: string): Promise<Job[]> {
  const jobs = await api.listJobs(site, { name, state: LIVE_STATES, user });
  return jobs.filter((j) => j.name === name && LIVE_STATES.includes(j.state) && (j.user === undefined || j.user === user));
}

/**
 * Find the live job named `spec.name` at `spec.site` (the earlier one, by id or name) or submit one.
 * Two live jobs of that name is an error naming both; neither is touched.
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
  const existing = await onlyLiveJobNamed(spec, o);
  if (existing) return { job: existing, reused: true };
  o.onSubmit?.(spec.site, true);
  for (let attempt = 1; ; attempt++) {
    try {
      const job = await o.api.submitJob(spec.site, spec.submission);
      return { job, reused: false };
    } catch (e) {
      if (e instanceof G5kApiError && e.status >= 400 && e.status < 500) {
        o.onSubmit?.(spec.site, false);
        if (e.status !== 401 && e.status !== 403) throw refusal(spec, e);
      }
      // No answer, or a 5xx: the job may or may not exist. Look before submitting again.
      if (!(e instanceof G5kApiError) || attempt >= 3 || (e.status !== 0 && e.status < 500)) throw e;
      o.progress(`submission at ${spec.site} got no clear answer (${e.message}); checking whether the job exists`);
      await sleepOrInterrupt(o, 5 * attempt, `while submitting at ${spec.site} (nothing recorded yet)`);
      const found = await onlyLiveJobNamed(spec, o);
      if (found) return { job: found, reused: false };
    }
  }
}

async function onlyLiveJobNamed(spec: SiteJobSpec, o: ReservationOptions): Promise<Job | undefined> {
  const mine = await liveJobsNamed(o.api, spec.site, spec.name, o.user);
  if (mine.length > 1) {
    throw new PlatformError(
      'g5k.job.duplicate',
      `${mine.length} live jobs of ${o.user} named ${spec.name} at ${spec.site}: ${mine.map((j) => `${j.uid} (${j.state})`).join(', ')}; greenrace did not touch them`,
      { hint: `delete the ones you do not need (oardel ${mine.map((j) => j.uid).join(' ')}), then run setup again; it reattaches to the one left` },
    );
  }
  return mine[0];
}

function refusal(spec: SiteJobSpec, e: G5kApiError): PlatformError {
  const r = parseOarRefusal(e.serverMessage || e.message);
  const asked = [`resources: ${spec.resources}`, `queue: ${spec.submission.queue ?? 'default'}`, ...(spec.submission.types?.length ? [`types: ${spec.submission.types.join(', ')}`] : [])];
  if (r.kind === 'could_run_at')
    return new PlatformError(
      'g5k.job.could_run_at',
      `OAR refused the job at ${spec.site}: the resources are not free at the requested time; this reservation could run at ${r.date}`,
      { cause: e, details: asked, hint: `set platform.g5k.reservation: "${r.date}" (or --set platform.g5k.reservation="${r.date}") and run setup again` },
    );
  if (r.kind === 'too_old')
    return new PlatformError('g5k.job.too_old', `OAR refused the job at ${spec.site}: the reservation date is in the past (${r.message})`, { cause: e, details: asked });
  return new PlatformError('g5k.job.rejected', `OAR refused the job at ${spec.site}: ${r.message}`, { cause: e, details: asked });
}

/** The reason OAR gives for a job that does not move on: its message, else its last event. */
function oarSays(job: Job): string {
  const ev = (job.events ?? []).map((e) => e.description).filter(Boolean).at(-1);
  const msg = job.message && !/^R=\d+,W=/.test(job.message) ? job.message : undefined;
  const said = ev ?? msg;
  return said ? ` (OAR: ${said})` : '';
}

function keptHint(uid: number, site: string, o: ReservationOptions): string {
  const c = o.commands;
  return `job ${uid} at ${site} is kept: ${c ? `\`${c.setup}\`` : 'setup'} reattaches to it, ${c ? `\`${c.killjob}\`` : 'killjob'} deletes it`;
}

async function sleepOrInterrupt(o: ReservationOptions, seconds: number, during: string): Promise<void> {
  try {
    await o.clock.sleep(seconds, o.signal);
  } catch (e) {
    if (o.signal?.aborted) throw new InterruptedError(`setup interrupted ${during}`);
    throw e;
  }
}

/**
 * Wait until the job runs. Polls with backoff (5 s, 10 s, ... up to 60 s) and, while OAR has a
 * scheduled start further away, sleeps until a little after it (by the server's clock, at most
 * `maxPollSeconds`, default 300 s). Reports the state and the scheduled start whenever they change.
 * API reads that fail (no answer, 5xx) are retried with capped backoff and a line of progress, never
 * given up before the wait timeout; a job in `error` fails with OAR's message; a job on hold or
 * suspended is waited for, saying what OAR says, until the wait timeout. Ctrl-C and the wait timeout
 * stop with the job kept.
 */
export async function waitRunning(site: string, first: Job, o: ReservationOptions): Promise<Job> {
  let job = first;
  let lastNote = '';
  const maxPoll = o.maxPollSeconds ?? 300;
  const deadline = o.clock.now() + (o.waitTimeout ?? Number.POSITIVE_INFINITY);
  /** When reads started failing: the client's clock (for the deadline) and the server's (for messages). */
  let failingSince: number | undefined;
  let failingSinceServer = 0;
  let outageDelay = 5;
  for (let n = 1; ; n++) {
    if (job.state === 'running') return job;
    if (job.state === 'error' || job.state === 'terminated' || job.state === 'finishing') {
      const events = (job.events ?? []).map((ev) => ev.description).filter(Boolean).slice(-3);
      throw new PlatformError('g5k.job.failed', `job ${job.uid} at ${site} is ${job.state}${job.message ? `: ${job.message}` : ''}`, { details: events });
    }
    const now = o.api.serverNow();
    const sched = job.scheduled_at ?? undefined;
    let delay: number;
    if (failingSince !== undefined) {
      delay = outageDelay;
      outageDelay = Math.min(outageDelay * 2, OUTAGE_MAX_POLL_S);
    } else {
      const held = job.state === 'hold' || job.state === 'suspended' ? oarSays(job) : '';
      const note =
        job.state +
        held +
        (sched ? `, scheduled start ${formatEpoch(sched)}${sched > now ? ` (in ${formatSpan(sched - now)})` : ''}` : ', no start time yet');
      if (note.replace(/ \(in .*\)$/, '') !== lastNote.replace(/ \(in .*\)$/, '')) o.progress(`job ${job.uid} at ${site}: ${note}`);
      lastNote = note;
      delay = job.state === 'launching' ? 5 : Math.min(5 * n, 60);
      if (job.state === 'waiting' && sched && sched + AFTER_SCHEDULED_S - now > delay) delay = Math.min(sched + AFTER_SCHEDULED_S - now, maxPoll);
    }
    const left = deadline - o.clock.now();
    if (left <= 0) {
      const why = failingSince !== undefined ? `the API has not answered since ${formatEpoch(failingSinceServer)}` : `it is still ${job.state}${oarSays(job)}`;
      throw new ReservationKeptError(
        'g5k.job.wait_timeout',
        `job ${job.uid} at ${site} did not start within ${formatSpan(o.waitTimeout ?? 0)} (platform.g5k.wait_timeout): ${why}`,
        { hint: keptHint(job.uid, site, o) },
      );
    }
    await sleepOrInterrupt(o, Math.max(1, Math.min(delay, left)), `while job ${job.uid} at ${site} waits; ${keptHint(job.uid, site, o)}`);
    const askedAt = { client: o.clock.now(), server: o.api.serverNow() };
    try {
      job = await o.api.getJob(site, job.uid);
      if (failingSince !== undefined) o.progress(`Grid'5000 API answers again; job ${job.uid} at ${site} is ${job.state}`);
      failingSince = undefined;
      outageDelay = 5;
    } catch (e) {
      if (e instanceof InterruptedError) throw new InterruptedError(`setup interrupted while job ${job.uid} at ${site} waits; ${keptHint(job.uid, site, o)}`);
      if (!isTransient(e)) throw e;
      if (failingSince === undefined) {
        failingSince = askedAt.client;
        failingSinceServer = askedAt.server;
      }
      o.progress(
        `Grid'5000 API unreachable since ${formatEpoch(failingSinceServer)} (${(e as Error).message}); job ${job.uid} at ${site} is kept, asking again in ${formatSpan(Math.min(outageDelay, OUTAGE_MAX_POLL_S))}`,
      );
    }
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
        o.progress(`deleted job ${g.job.uid} at ${g.spec.site}, submitted by this setup`);
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
