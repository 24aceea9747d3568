import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, greenraceVersion, mustRun, setupFingerprint, silentHosts, silentServices, skipLine, stoppedSince, type SetupInputs } from '../../../src/app/setup-inplace.js';
import type { ServicePlan } from '../../../src/services/registry.js';

const trees: string[] = [];
afterAll(() => {
  for (const d of trees) rmSync(d, { recursive: true, force: true });
});

function tree(): string {
  const d = mkdtempSync(join(tmpdir(), 'gr-inplace-'));
  trees.push(d);
  mkdirSync(join(d, 'roles', 'kafka', 'tasks'), { recursive: true });
  writeFileSync(join(d, 'roles', 'kafka', 'tasks', 'main.yml'), '- name: A\n');
  return d;
}

const host = (name: string, address: string) => ({ name, address, port: 22, user: 'root', roles: ['broker'] });

function inputs(): SetupInputs {
  return {
    greenrace: '0.1.0',
    experiment: { name: 'exp', kafka: { version: '4.3.1', heap: '512m' }, ingest: { load: 1000 }, monitoring: { scrape_interval: 1 } },
    extraVars: { gr_services: ['kafka'], kafka_heap: '512m' },
    handle: { kind: 'local', hosts: [host('broker-1', '10.0.0.2')], dataDirs: { 'broker-1': '/tmp/b1' } },
    services: ['kafka'],
  };
}

describe('setupFingerprint', () => {
  const d = tree();
  const base = setupFingerprint(inputs(), d);

  it('is the same for the same inputs and Ansible files, whatever order the keys were set in', () => {
    expect(setupFingerprint(inputs(), d)).toBe(base);
    const i = inputs();
    const reordered: SetupInputs = { services: i.services, handle: i.handle, extraVars: { kafka_heap: '512m', gr_services: ['kafka'] }, experiment: i.experiment, greenrace: i.greenrace };
    expect(setupFingerprint(reordered, d)).toBe(base);
  });

  it('changes with the greenrace version, any experiment key (a service version or option, a workload setting), the variables, the hosts and the services', () => {
    const changed: Array<[string, (i: SetupInputs) => void]> = [
      ['greenrace version', (i) => (i.greenrace = '0.2.0')],
      ['kafka version', (i) => ((i.experiment as { kafka: { version: string } }).kafka.version = '4.2.0')],
      ['kafka option', (i) => ((i.experiment as { kafka: { heap: string } }).kafka.heap = '1g')],
      ['ingest setting', (i) => ((i.experiment as { ingest: { load: number } }).ingest.load = 2000)],
      ['deploy variable', (i) => (i.extraVars.kafka_heap = '1g')],
      ['host address', (i) => ((i.handle as { hosts: Array<{ address: string }> }).hosts[0]!.address = '10.0.0.3')],
      ['one more host', (i) => (i.handle as { hosts: unknown[] }).hosts.push(host('worker-1', '10.0.0.4'))],
      ['services', (i) => (i.services = ['kafka', 'prometheus'])],
    ];
    const seen = new Set([base]);
    for (const [what, change] of changed) {
      const i = inputs();
      change(i);
      const f = setupFingerprint(i, d);
      expect(f, what).not.toBe(base);
      seen.add(f);
    }
    expect(seen.size).toBe(changed.length + 1);
  });

  it('changes with any file under ansible/ (edited or added), not with Python caches or retry files', () => {
    const t = tree();
    const b = setupFingerprint(inputs(), t);
    mkdirSync(join(t, 'roles', 'kafka', '__pycache__'));
    writeFileSync(join(t, 'roles', 'kafka', '__pycache__', 'x.cpython-311.pyc'), 'cache');
    writeFileSync(join(t, 'setup.retry'), 'host');
    expect(setupFingerprint(inputs(), t)).toBe(b);
    writeFileSync(join(t, 'roles', 'kafka', 'tasks', 'main.yml'), '- name: B\n');
    const edited = setupFingerprint(inputs(), t);
    expect(edited).not.toBe(b);
    writeFileSync(join(t, 'roles', 'kafka', 'tasks', 'extra.yml'), '- name: C\n');
    expect(setupFingerprint(inputs(), t)).not.toBe(edited);
  });

  it('leaves out variables set to undefined (the SSH wait is no input)', () => {
    const i = inputs();
    i.extraVars.gr_connect_timeout = undefined;
    expect(setupFingerprint(i, d)).toBe(base);
    i.extraVars.gr_connect_timeout = 120;
    expect(setupFingerprint(i, d)).not.toBe(base);
  });

  it('canonical JSON sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });

  it('the greenrace version is package.json\'s', () => {
    expect(greenraceVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('mustRun: when setup.yml runs whatever the hosts answer', () => {
  const ready = { phase: 'ready' as const, setupFingerprint: 'f1', setupSilent: [], setupFinishedAt: '2026-12-03T10:00:00.000Z' };
  const none = { dropped: [], cluster: false };

  it('may skip only after a ready setup with the same fingerprint', () => {
    expect(mustRun(ready, 'f1', none)).toBeUndefined();
    expect(mustRun(undefined, 'f1', none)).toBe('');
    expect(mustRun(ready, 'f2', none)).toMatch(/changed since the last setup/);
    expect(mustRun({ ...ready, phase: 'failed' }, 'f1', none)).toMatch(/did not finish/);
    expect(mustRun({ phase: 'ready' }, 'f1', none)).toMatch(/no record/);
    expect(mustRun(ready, 'f1', { ...none, converge: true })).toBe('--converge');
    expect(mustRun(ready, 'f1', { ...none, dropped: ['kafka'] })).toMatch(/no longer listed: kafka/);
    expect(mustRun(ready, 'f1', { ...none, cluster: true })).toMatch(/Kubernetes/);
  });

  it('a service that answered then and not now is stopped; one silent both times is not', () => {
    expect(stoppedSince(['scaphandre on b (x:8080)', 'kafka on b (x:9092)'], ['scaphandre on b (x:8080)'])).toEqual(['kafka on b (x:9092)']);
    expect(stoppedSince(['scaphandre on b (x:8080)'], ['scaphandre on b (x:8080)'])).toEqual([]);
  });

  it('the skip line names the date of the setup that deployed and how to run it anyway', () => {
    expect(skipLine(ready)).toBe('setup.yml skipped: nothing changed since the setup of 2026-12-03T10:00:00.000Z; ports answer; `setup --converge` to run it anyway');
  });
});

describe('silentServices and silentHosts', () => {
  let server: Server;
  let port = 0;
  let closed = 0;
  beforeAll(async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    closed = await new Promise<number>((r) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('names each service whose main port does not answer, on which host', async () => {
    const plan = {
      services: ['prometheus', 'kafka'],
      hosts: { prometheus: ['control-1'], kafka: ['broker-1'] },
      ports: { prometheus: { http: port }, kafka: { client: closed, controller: port } },
    } as unknown as ServicePlan;
    const hosts = [
      { name: 'control-1', address: '127.0.0.1', port: 22, user: 'root', roles: ['control'] },
      { name: 'broker-1', address: '127.0.0.1', port: 22, user: 'root', roles: ['broker'] },
    ] as never;
    expect(await silentServices(plan, hosts, 1000)).toEqual([`kafka on broker-1 (127.0.0.1:${closed})`]);
  });

  it('names each host whose SSH port does not answer', async () => {
    const hosts = [
      { name: 'up-1', address: '127.0.0.1', port, user: 'root', roles: ['worker'] },
      { name: 'down-1', address: '127.0.0.1', port: closed, user: 'root', roles: ['worker'] },
    ] as never;
    expect(await silentHosts(hosts, 1000)).toEqual([`down-1 (127.0.0.1:${closed})`]);
  });
});
