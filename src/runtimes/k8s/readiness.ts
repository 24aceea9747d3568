/**
 * What is not ready and why, from pods and their events: the words a user reads when a wait for
 * readiness fails (pending and why the scheduler left it so, an image that cannot be pulled, a
 * container crashing and its last exit, a failed probe), and the states that will never get better.
 */

export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: unknown };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
    containerStatuses?: ContainerStatusLike[];
    initContainerStatuses?: ContainerStatusLike[];
  };
}

interface ContainerStatusLike {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode?: number; reason?: string; message?: string }; running?: unknown };
  lastState?: { terminated?: { exitCode?: number; reason?: string; message?: string } };
}

export interface EventLike {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  involvedObject?: { name?: string; kind?: string };
  lastTimestamp?: unknown;
  eventTime?: unknown;
}

/** Container waiting reasons that do not go away by waiting. */
const HOPELESS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff', 'RunContainerError', 'ErrImageNeverPull']);

export function isReady(p: PodLike): boolean {
  return p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** A pod that will not become ready however long one waits (failed, image not pullable, crash loop), with why. */
export function hopeless(p: PodLike): string | undefined {
  if (p.status?.phase === 'Failed') return `failed${p.status.reason ? ` (${p.status.reason})` : ''}${p.status.message ? `: ${p.status.message}` : ''}`;
  if (p.status?.phase === 'Succeeded') return 'exited (completed) instead of staying up';
  for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const w = c.state?.waiting;
    if (w?.reason && HOPELESS.has(w.reason)) {
      const last = c.lastState?.terminated;
      return `container ${c.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}${last ? ` (last exit ${last.exitCode}${last.reason ? ` ${last.reason}` : ''})` : ''}`;
    }
  }
  return undefined;
}

/** One line saying why a pod is not ready: its phase, the unmet condition, each container's state. */
export function whyNotReady(p: PodLike): string {
  const st = p.status ?? {};
  const parts: string[] = [`${st.phase ?? 'Unknown'}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ''}`];
  if (p.metadata?.deletionTimestamp) parts.push('being deleted');
  const sched = (st.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched) parts.push(`not scheduled: ${sched.message ?? sched.reason ?? 'no reason given'}`);
  for (const c of [...(st.initContainerStatuses ?? []).map((x) => ({ ...x, init: true })), ...(st.containerStatuses ?? []).map((x) => ({ ...x, init: false }))]) {
    const name = `${c.init ? 'init ' : ''}container ${c.name}`;
    if (c.state?.waiting) parts.push(`${name} waiting: ${c.state.waiting.reason ?? ''}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}`);
    else if (c.state?.terminated) parts.push(`${name} exited ${c.state.terminated.exitCode}${c.state.terminated.reason ? ` (${c.state.terminated.reason})` : ''}`);
    else if (c.state?.running && !c.ready && !c.init) parts.push(`${name} running, not ready${c.restartCount ? ` (${c.restartCount} restarts)` : ''}`);
  }
  const notReady = (st.conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'False' && c.message);
  if (notReady && !sched) parts.push(notReady.message!);
  return parts.join('; ');
}

/** The warning events about an object, newest last, as lines (`Reason: message (×count)`), at most `max`. */
export function eventLines(events: EventLike[], max = 5): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of events) {
    if (e.type !== 'Warning') continue;
    const line = `${e.reason ?? 'Event'}: ${(e.message ?? '').trim()}${e.count && e.count > 1 ? ` (×${e.count})` : ''}`;
    if (seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  return lines.slice(-max);
}

/** The detail lines of a failed wait: per pod not ready, why, then its warning events. */
export function notReadyDetails(pods: PodLike[], eventsOf: (pod: string) => EventLike[]): string[] {
  const out: string[] = [];
  for (const p of pods) {
    if (isReady(p)) continue;
    const name = p.metadata?.name ?? '?';
    out.push(`pod ${name}: ${hopeless(p) ?? whyNotReady(p)}`);
    for (const l of eventLines(eventsOf(name))) out.push(`  ${l}`);
  }
  return out;
}
