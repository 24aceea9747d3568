import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployServices, runExperimentPlaybook, servicesWithoutRole, summarize } from '../../../src/app/deploy.js';
import { lockPath, readState, writeState, type ExperimentState } from '../../../src/app/state.js';
import { experimentSchema } from '../../../src/experiment/schema.js';
import type { Host } from '../../../src/core/types.js';

const root = mkdtempSync(join(tmpdir(), 'gr-app-deploy-'));
const saved = { state: process.env.GREENRACE_STATE_DIR, exe: process.env.GREENRACE_ANSIBLE_PLAYBOOK };
process.env.GREENRACE_STATE_DIR = join(root, 'state');

// The recap of a real run (test/fixtures/ansible/mixed.events.jsonl), plus the controller's localhost.
const RECAP = {
  l1: { changed: 1, failed: 0, ignored: 1, ok: 6, rescued: 0, skipped: 1, unreachable: 0 },
  l2: { changed: 1, failed: 1, ignored: 1, ok: 5, rescued: 0, skipped: 0, unreachable: 0 },
  u1: { changed: 0, failed: 0, ignored: 0, ok: 0, rescued: 0, skipped: 0, unreachable: 1 },
  localhost: { changed: 0, failed: 0, ignored: 0, ok: 2, rescued: 0, skipped: 0, unreachable: 0 },
};

const HOSTS: Host[] = [
  { name: 'c-1', address: '10.0.0.1', port: 22, user: 'root', roles: ['control'] },
  { name: 'w-1', address: '10.0.0.2', port: 22, user: 'root', roles: ['worker'] },
  { name: 'w-2', address: '10.0.0.3', port: 22, user: 'root', roles: ['worker'] },
];
const experiment = (name: string) => experimentSchema.parse({ name, services: ['node_exporter'] });

function state(exp: string, phase: ExperimentState['phase'] = 'ready'): string {
  const dir = join(root, 'state', exp);
  writeState(dir, {
    version: 1,
    experiment: exp,
    phase,
    platformKind: 'static',
    platform: { kind: 'static', data: {}, hosts: HOSTS },
    experimentSnapshot: experiment(exp),
    files: [],
    services: ['node_exporter'],
    endpoints: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  // What setup leaves next to the state: the runner refuses to start without them.
  writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\n');
  writeFileSync(join(dir, 'inventory.yaml'), 'all: {}\n');
  return dir;
}

/**
 * A stand-in for ansible-playbook: copies its arguments and extra-vars where the test can read them,
 * notes whether the experiment's lock is held, and writes the stats event the callback plugin would.
 */
const fake = join(root, 'ansible-playbook');
const seen = join(root, 'seen');
beforeAll(() => {
  mkdirSync(seen);
  const stats = JSON.stringify({ event: 'stats', ts: 1795638751.74, custom: {}, hosts: { 'c-1': RECAP.l1, 'w-1': RECAP.l1, 'w-2': { ...RECAP.l1, changed: 0 }, localhost: RECAP.localhost } });
  writeFileSync(
    fake,
    [
      '#!/bin/sh',
      `echo "$@" > ${seen}/args`,
      `for a in "$@"; do case "$a" in @*) cp "\${a#@}" ${seen}/vars.json;; esac; done`,
      `ls "$(dirname "$ANSIBLE_CONFIG")" > ${seen}/statedir`,
      `echo '${stats}' >> "$GREENRACE_EVENTS_FILE"`,
      'exit 0',
      '',
    ].join('\n'),
  );
  chmodSync(fake, 0o755);
  process.env.GREENRACE_ANSIBLE_PLAYBOOK = fake;
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  for (const [k, v] of [['GREENRACE_STATE_DIR', saved.state], ['GREENRACE_ANSIBLE_PLAYBOOK', saved.exe]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('summary of a playbook run', () => {
  it('counts hosts ok / changed / failed (unreachable is failed) and leaves the controller out', () => {
    const s = summarize({ playbook: 'setup', recap: RECAP, elapsedMs: 12_345, logFile: '/x/setup.log' }, ['kafka']);
    expect(s).toEqual({
      playbook: 'setup',
      service: 'kafka',
      ok: ['l1'],
      changed: ['l1', 'l2'],
      failed: ['l2', 'u1'],
      elapsedSeconds: 12.3,
      logFile: '/x/setup.log',
      hosts: {
        l1: { ok: 6, changed: 1, failed: 0, unreachable: 0, skipped: 1 },
        l2: { ok: 5, changed: 1, failed: 1, unreachable: 0, skipped: 0 },
        u1: { ok: 0, changed: 0, failed: 0, unreachable: 1, skipped: 0 },
        localhost: { ok: 2, changed: 0, failed: 0, unreachable: 0, skipped: 0 },
      },
    });
    expect(summarize({ playbook: 'topic', recap: {}, elapsedMs: 0, logFile: '' })).not.toHaveProperty('service');
  });
});

describe('deployServices', () => {
  it("deploys one service with setup.yml restricted to it, records it for killjob, releases the lock", async () => {
    const dir = state('dep');
    const lines: string[] = [];
    const sum = await deployServices(experiment('dep'), ['prometheus'], { extraVars: { prometheus_retention: '2d' }, progress: (l) => lines.push(l) });
    expect(lines[0]).toBe('deploying prometheus on c-1');
    expect(readFileSync(join(seen, 'args'), 'utf8')).toMatch(/playbooks\/setup\.yml/);
    expect(readFileSync(join(seen, 'statedir'), 'utf8').split('\n')).toContain('lock');
    const vars = JSON.parse(readFileSync(join(seen, 'vars.json'), 'utf8')) as Record<string, unknown>;
    expect(vars.gr_services).toEqual(['prometheus']);
    expect(vars.prometheus_retention).toBe('2d');
    // Only prometheus' play runs (node_exporter's matches no host), on its host only; Prometheus still scrapes every exporter.
    expect(vars.gr_service_hosts).toEqual({ prometheus: 'control[0]' });
    expect(vars.gr_fact_hosts).toBe('control[0]');
    expect((vars.gr_scrape_jobs as Array<{ job_name: string }>).map((j) => j.job_name)).toEqual(['node', 'prometheus']);
    expect(sum).toMatchObject({ playbook: 'setup', service: 'prometheus', ok: ['c-1', 'w-1', 'w-2'], changed: ['c-1', 'w-1'], failed: [] });
    const st = readState(dir)!;
    expect(st.services).toEqual(['node_exporter', 'prometheus']);
    expect(st.endpoints.prometheus_url).toBe('http://10.0.0.1:9090');
    expect(existsSync(lockPath(dir))).toBe(false);
  });

  it('an exporter deployed alone also reconfigures a deployed Prometheus to scrape it; a skipped Scaphandre stays out of its targets', async () => {
    const dir = state('exp2');
    const st = readState(dir)!;
    writeState(dir, {
      ...st,
      services: ['scaphandre', 'prometheus'],
      // Setup found Scaphandre deployable on c-1 only.
      scrapeTargets: [
        { job: 'scaphandre', instance: '10.0.0.1:8080', host: 'c-1' },
        { job: 'prometheus', instance: '10.0.0.1:9090', host: 'c-1' },
      ],
    });
    const e = experimentSchema.parse({ name: 'exp2', services: ['scaphandre', 'prometheus'] });
    const lines: string[] = [];
    await deployServices(e, ['node_exporter'], { progress: (l) => lines.push(l) });
    expect(lines[0]).toBe('deploying node_exporter on c-1, w-1, w-2 (and reconfiguring prometheus to scrape it)');
    const vars = JSON.parse(readFileSync(join(seen, 'vars.json'), 'utf8')) as Record<string, any>;
    expect(vars.gr_services).toEqual(['node_exporter', 'prometheus']);
    expect(vars.gr_service_hosts).toEqual({ node_exporter: 'all', prometheus: 'control[0]' });
    const targets = Object.fromEntries((vars.gr_scrape_jobs as Array<{ job_name: string; targets: string[] }>).map((j) => [j.job_name, j.targets]));
    expect(targets).toEqual({ node: ['10.0.0.1:9100', '10.0.0.2:9100', '10.0.0.3:9100'], scaphandre: ['10.0.0.1:8080'], prometheus: ['10.0.0.1:9090'] });
    expect(readState(dir)!.scrapeTargets!.map((t) => `${t.job} ${t.instance}`)).toEqual([
      'node 10.0.0.1:9100', 'node 10.0.0.2:9100', 'node 10.0.0.3:9100', 'scaphandre 10.0.0.1:8080', 'prometheus 10.0.0.1:9090',
    ]);
    // Prometheus alone: only its play.
    await deployServices(e, ['prometheus']);
    expect(JSON.parse(readFileSync(join(seen, 'vars.json'), 'utf8')).gr_service_hosts).toEqual({ prometheus: 'control[0]' });
  });

  it('refuses unknown services, services without a role, and clusters that are not set up', async () => {
    await expect(deployServices(experiment('dep'), [])).rejects.toMatchObject({ code: 'deploy.no_service' });
    await expect(deployServices(experiment('dep'), ['nginx'])).rejects.toMatchObject({ code: 'deploy.unknown_service', message: expect.stringContaining('unknown service nginx (services: node_exporter, prometheus') });
    expect(servicesWithoutRole(['kafka', 'prometheus'])).toEqual([]);
    // The cluster is the runtime's (runtime: k3s), not a service deployed by setup.yml.
    await expect(deployServices(experiment('dep'), ['k3s'])).rejects.toMatchObject({ code: 'deploy.unknown_service', message: expect.stringContaining('unknown service k3s') });
    await expect(deployServices(experiment('none'), ['kafka'])).rejects.toMatchObject({ code: 'deploy.no_cluster', message: 'experiment none has no cluster' });
    state('busy', 'deploying');
    await expect(deployServices(experiment('busy'), ['kafka'])).rejects.toMatchObject({ code: 'deploy.not_ready' });
  });

  it('a held lock is an error naming its holder, and nothing runs', async () => {
    const dir = state('locked');
    writeFileSync(lockPath(dir), JSON.stringify({ pid: process.ppid, command: 'entrypoint ingest locked', since: '2026-01-01T00:00:00Z' }) + '\n');
    rmSync(join(seen, 'args'), { force: true });
    await expect(deployServices(experiment('locked'), ['kafka'])).rejects.toMatchObject({ code: 'state.locked', message: expect.stringContaining('entrypoint ingest locked') });
    expect(existsSync(join(seen, 'args'))).toBe(false);
  });
});

describe('runExperimentPlaybook', () => {
  it("runs a playbook by name with the experiment's extra-vars, without recording a service", async () => {
    const dir = state('pb');
    const sum = await runExperimentPlaybook(experiment('pb'), 'topic');
    expect(readFileSync(join(seen, 'args'), 'utf8')).toMatch(/playbooks\/topic\.yml/);
    const vars = JSON.parse(readFileSync(join(seen, 'vars.json'), 'utf8')) as Record<string, unknown>;
    expect(vars.gr_services).toEqual(['node_exporter']);
    expect(sum.playbook).toBe('topic');
    expect(sum).not.toHaveProperty('service');
    expect(readState(dir)!.services).toEqual(['node_exporter']);
  });

  it('refuses a name that is not under ansible/playbooks', async () => {
    await expect(runExperimentPlaybook(experiment('pb'), 'nosuch')).rejects.toMatchObject({ code: 'deploy.unknown_playbook' });
  });
});
