/**
 * Deploy services on a set-up cluster, or run one playbook with the experiment's extra-vars, outside
 * of `setup`: what the shell's `p()` does. Takes the experiment's lock, runs setup.yml restricted to
 * the chosen services (roles and hosts from the service registry), records the services and their
 * endpoints in the state so that `killjob` removes them, and returns a per-host summary.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Experiment } from '../experiment/schema.js';
import { GreenraceError, UsageError } from '../core/errors.js';
import { assetPath, stateDir } from '../core/paths.js';
import { SERVICES, type ServiceName } from '../core/types.js';
import { runPlaybook, type PlaybookResult } from '../ansible/runner.js';
import { expectedTargets, orderedServices, planServices, serviceDef, serviceHosts, type ExpectedTarget, type ScrapeJob } from '../services/registry.js';
import { missingRoles } from '../services/roles.js';
import { serviceExtraVars } from './ansible-files.js';
import { forgetSetupFingerprint, lockState, readState, writeState, type ExperimentState } from './state.js';

export interface HostCounts {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  skipped: number;
}

/** What a deployment or a playbook run did, host by host (the controller's localhost left out). */
export interface DeploySummary {
  playbook: string;
  /** The services deployed (comma-separated), absent for a plain playbook. */
  service?: string;
  /** Hosts with no failed task and reachable. */
  ok: string[];
  /** Hosts where something changed. */
  changed: string[];
  /** Hosts with a failed task or unreachable. */
  failed: string[];
  elapsedSeconds: number;
  logFile: string;
  hosts: Record<string, HostCounts>;
}

export interface DeployOptions {
  /** Merged over the experiment's extra-vars. */
  extraVars?: Record<string, unknown>;
  signal?: AbortSignal;
  progress?: (line: string) => void;
  /** Who holds the lock while this runs, as other commands will show it. */
  command?: string;
}

type SetUpState = ExperimentState & { platform: NonNullable<ExperimentState['platform']> };

function setUpState(exp: string): SetUpState {
  const st = readState(stateDir(exp));
  if (!st || !st.platform || st.platform.hosts.length === 0) {
    throw new GreenraceError('deploy.no_cluster', `experiment ${exp} has no cluster${st ? ` (state: ${st.phase})` : ''}`, {
      hint: `run \`entrypoint setup ${exp}\``,
    });
  }
  if (st.phase !== 'ready' && st.phase !== 'reserved') {
    throw new GreenraceError('deploy.not_ready', `experiment ${exp} is not ready (state: ${st.phase}); finish \`entrypoint setup ${exp}\` first`);
  }
  return st as SetUpState;
}

/** Services (of those given) whose Ansible role is not in the repository. */
export function servicesWithoutRole(services: readonly ServiceName[]): ServiceName[] {
  return missingRoles(orderedServices(services)).map((d) => d.name);
}

/**
 * The playbook to run: a path (to a .yml file; the runner reports a missing one) made absolute, or a
 * name under ansible/playbooks; undefined for an unknown name.
 */
function playbookFile(playbook: string): string | undefined {
  if (playbook === '') return undefined;
  if (playbook.endsWith('.yml') || playbook.endsWith('.yaml') || playbook.includes('/')) return resolve(playbook);
  return existsSync(assetPath('ansible', 'playbooks', `${playbook}.yml`)) ? playbook : undefined;
}

/** The per-host summary of a playbook run; `localhost` (the controller's own plays) is not a host of the cluster. */
export function summarize(r: Pick<PlaybookResult, 'playbook' | 'recap' | 'elapsedMs' | 'logFile'>, services?: readonly string[]): DeploySummary {
  const hosts: Record<string, HostCounts> = Object.fromEntries(
    Object.entries(r.recap).map(([h, c]) => [h, { ok: c.ok, changed: c.changed, failed: c.failed, unreachable: c.unreachable, skipped: c.skipped }]),
  );
  const names = Object.keys(hosts).filter((h) => h !== 'localhost');
  return {
    playbook: r.playbook,
    ...(services && services.length ? { service: services.join(', ') } : {}),
    ok: names.filter((h) => hosts[h]!.failed === 0 && hosts[h]!.unreachable === 0),
    changed: names.filter((h) => hosts[h]!.changed > 0),
    failed: names.filter((h) => hosts[h]!.failed > 0 || hosts[h]!.unreachable > 0),
    elapsedSeconds: Math.round(r.elapsedMs / 100) / 10,
    logFile: r.logFile,
    hosts,
  };
}

const runOpts = (opts: DeployOptions) => ({ ...(opts.progress ? { progress: opts.progress } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });

/**
 * The plays `p(services)` runs: those services, and Prometheus' when it is deployed (or asked for)
 * and one of them is an exporter it scrapes, so that the new targets are scraped. Deploy order.
 */
function playsFor(names: ServiceName[], st: SetUpState, experiment: Experiment): ServiceName[] {
  const hosts = st.platform.hosts;
  const prometheus = st.services.includes('prometheus') || names.includes('prometheus');
  const exporter = names.some((n) => n !== 'prometheus' && serviceDef(n).scrapeJobs({ experiment, hosts }, serviceHosts(serviceDef(n), hosts)).some((j) => j.targets.length > 0));
  return orderedServices(prometheus && exporter ? [...names, 'prometheus'] : names).map((d) => d.name);
}

/**
 * An optional job (Scaphandre) whose role does not run now keeps only the targets setup found it
 * deployed on (the state's scrapeTargets): its role's per-host status is not there to filter them.
 */
function keepSkippedOut(jobs: ScrapeJob[], plays: ServiceName[], known: ExpectedTarget[] | undefined): ScrapeJob[] {
  if (!known) return jobs;
  return jobs.map((j) =>
    j.optional && !(plays as string[]).includes(j.job_name) ? { ...j, targets: j.targets.filter((t) => known.some((k) => k.job === j.job_name && k.instance === t)) } : j,
  );
}

/**
 * Deploy services on the experiment's hosts with setup.yml (only these services), using the given
 * (possibly overridden) configuration. Services not listed in the experiment are added to the plan
 * so their hosts, ports and scrape targets are known. Failed hosts are an AnsibleError naming host
 * and task; an abort stops ansible-playbook and throws InterruptedError.
 */
export async function deployServices(experiment: Experiment, services: readonly string[], opts: DeployOptions = {}): Promise<DeploySummary> {
  const exp = experiment.name;
  if (services.length === 0) throw new UsageError('deploy.no_service', `deploy: name at least one service (${SERVICES.join(', ')})`);
  const unknown = services.filter((x) => !(SERVICES as readonly string[]).includes(x));
  if (unknown.length) {
    throw new UsageError('deploy.unknown_service', `deploy: unknown service ${unknown.join(', ')} (services: ${SERVICES.join(', ')})`);
  }
  const names = [...new Set(services as ServiceName[])];
  const st = setUpState(exp);
  const noRole = servicesWithoutRole(names);
  if (noRole.length) {
    throw new GreenraceError('deploy.no_role', `service ${noRole.join(', ')} has no Ansible role yet (${noRole.map((n) => `ansible/roles/${n}`).join(', ')})`);
  }
  const withServices = { ...experiment, services: [...experiment.services, ...names.filter((n) => !experiment.services.includes(n))] };
  const plan = planServices(withServices, st.platform.hosts);
  const plays = playsFor(names, st, withServices);
  const jobs = keepSkippedOut(plan.scrapeJobs, plays, st.scrapeTargets);
  // Only these plays run (the others' host patterns are left out, so their plays match no host), and
  // only their hosts are waited for and inventoried; every service's ports, scrape jobs and
  // endpoints stay in the variables (Prometheus' configuration lists every exporter).
  const patterns = Object.fromEntries(plays.map((n) => [n, plan.hostPatterns[n]!]));
  const vars = {
    ...serviceExtraVars(withServices, { ...plan, scrapeJobs: jobs }),
    gr_services: plays,
    gr_service_hosts: patterns,
    gr_fact_hosts: [...new Set(Object.values(patterns))].join(':'),
    ...(opts.extraVars ?? {}),
  };
  const dir = stateDir(exp);
  const lock = lockState(exp, opts.command ?? `deploy ${exp}: ${names.join(', ')}`, dir);
  try {
    const on = [...new Set(plays.flatMap((n) => plan.hosts[n] ?? []))];
    const extra = plays.filter((n) => !names.includes(n));
    opts.progress?.(`deploying ${names.join(', ')} on ${on.join(', ') || 'no host'}${extra.length ? ` (and reconfiguring ${extra.join(', ')} to scrape it)` : ''}`);
    forgetSetupFingerprint(dir);
    const r = await runPlaybook({ stateDir: dir, playbook: 'setup', extraVars: vars, ...runOpts(opts) });
    // Recorded so that killjob destroys them, with their endpoints (prometheus_url, ...), and what Prometheus now scrapes.
    const cur = readState(dir);
    if (cur) {
      const scrape = plays.includes('prometheus') ? { scrapeTargets: expectedTargets({ services: plays, scrapeJobs: jobs }, r.custom) } : {};
      writeState(dir, { ...cur, services: [...new Set([...cur.services, ...names])], endpoints: { ...cur.endpoints, ...plan.endpoints }, ...scrape });
    }
    return summarize(r, names);
  } finally {
    lock.release();
  }
}

/**
 * Run a playbook (a name under ansible/playbooks, or a path to a .yml file) on the experiment's
 * inventory with the experiment's extra-vars, under the experiment's lock.
 */
export async function runExperimentPlaybook(experiment: Experiment, playbook: string, opts: DeployOptions = {}): Promise<DeploySummary> {
  const exp = experiment.name;
  const file = playbookFile(playbook);
  if (!file) {
    throw new UsageError('deploy.unknown_playbook', `"${playbook}" is not a playbook in ansible/playbooks (nor a path to a .yml file)`);
  }
  const st = setUpState(exp);
  const plan = planServices(experiment, st.platform.hosts);
  const vars = { ...serviceExtraVars(experiment, plan), ...(opts.extraVars ?? {}) };
  const dir = stateDir(exp);
  const lock = lockState(exp, opts.command ?? `playbook ${exp}: ${playbook}`, dir);
  try {
    opts.progress?.(`running ${playbook}`);
    forgetSetupFingerprint(dir);
    const r = await runPlaybook({ stateDir: dir, playbook: file, extraVars: vars, ...runOpts(opts) });
    return summarize(r);
  } finally {
    lock.release();
  }
}
