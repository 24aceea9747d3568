import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { race } from '../../src/app/race.js';
import { downHosts, nsProcesses, rmHome, tempHome, upHosts, writeState } from './net-support.js';
import type { NetHost } from '../../src/workloads/net/tools/types.js';

const RACEFILE = join(__dirname, '../../racefiles/static-http.yaml.njk');
let hosts: NetHost[];
let home: string;

beforeAll(() => {
  // nginx on the broker host, wrk on two worker hosts.
  hosts = upHosts(['broker', 'worker', 'worker']);
  home = tempHome('racetest', 'platform: {kind: local}\nroles: {control: 0, broker: 1, worker: 2}\n');
  writeState(home, 'racetest', hosts);
});
afterAll(() => {
  downHosts();
  rmHome(home);
});

const onlySshd = (): void => {
  for (const h of hosts) expect(nsProcesses(h.name)).toEqual(['sshd']);
  for (const h of hosts) expect(existsSync(join(h.dataDir, 'race')) ? readdirSync(join(h.dataDir, 'race')) : []).toEqual([]);
};

describe('racefile: static HTTP benchmark (nginx + wrk)', () => {
  it('runs its laps and brings back one parsed wrk report per client host', async () => {
    const out = await race({ racefile: RACEFILE, exp: 'racetest', hosts, params: ['server_role=broker', 'client_role=worker', 'duration=2s', 'warmup=1s'] });
    expect(out.record.status).toBe('completed');
    const laps = out.outcome!.laps.map((l) => `${l.phase}:${l.name}:${l.hosts.map((h) => `${h.host}=${h.code}`).join(',')}`);
    expect(laps).toEqual(['warmup:wrk-warmup:net2=0,net3=0', 'benchmark:wrk:net2=0,net3=0']);
    for (const h of ['net2', 'net3']) {
      const text = readFileSync(join(out.dir, h, 'client.wrk.log'), 'utf8');
      expect(text).toContain('Requests/sec:');
    }
    expect(existsSync(join(out.dir, 'net1'))).toBe(false);
    const parsed = out.record.results!.parsed as Record<string, { throughputOpsPerSecond: number; latencyMicroseconds: { p99: number } }>;
    expect(Object.keys(parsed).sort()).toEqual(['net2/client.wrk.log', 'net3/client.wrk.log']);
    expect(parsed['net2/client.wrk.log']!.throughputOpsPerSecond).toBeGreaterThan(0);
    expect(parsed['net2/client.wrk.log']!.latencyMicroseconds.p99).toBeGreaterThan(0);
    expect(readFileSync(join(out.dir, 'racefile.yaml'), 'utf8')).toContain('listen 8088;');
    onlySshd();
  });

  it('a failing lap still cleans up (nginx stopped, undo run, remote dirs gone) and names lap and host', async () => {
    const file = join(home, 'failing.yaml');
    const marker = join(home, 'undo-ran');
    writeFileSync(
      file,
      [
        'configs:',
        '  - {type: process, name: idle, role: broker, command: "sleep 600"}',
        `  - {type: exec, role: worker, command: "true", undo: "touch ${marker}-$GR_HOST"}`,
        'benchmark:',
        '  - {role: worker, name: ok, command: "echo fine"}',
        '  - {role: worker, name: boom, command: "echo partial; echo broken >&2; exit 3"}',
        '  - {role: worker, name: never, command: "sleep 100"}',
        'collectors:',
        '  - {type: file, role: worker, source: nothing.txt}',
      ].join('\n'),
    );
    await expect(race({ racefile: file, exp: 'racetest', hosts })).rejects.toThrow(/benchmark\[1\] \(boom\) failed on net[23], net[23]: exit 3/);
    expect(existsSync(`${marker}-net2`) && existsSync(`${marker}-net3`)).toBe(true);
    onlySshd();
  });

  it('a program the racefile requires but no host has stops the race before anything is deployed, naming program and hosts', async () => {
    const file = join(home, 'requires.yaml');
    writeFileSync(file, 'requires: {worker: [wrk, no-such-tool], broker: [nginx]}\nconfigs:\n  - {type: process, name: idle, role: broker, command: "sleep 600"}\nbenchmark:\n  - {role: worker, command: "true"}\n');
    await expect(race({ racefile: file, exp: 'racetest', hosts })).rejects.toMatchObject({ code: 'race.tool_missing' });
    await expect(race({ racefile: file, exp: 'racetest', hosts })).rejects.toThrow(/requires no-such-tool on net2, no-such-tool on net3, which are not installed/);
    onlySshd();
  });

  it('with the experiment\'s state and install_tools: always, net-tools.yml installs what the racefile requires first (nothing to change here)', async () => {
    const file = join(home, 'requires-ok.yaml');
    writeFileSync(file, 'requires: {worker: [wrk], broker: [nginx]}\nbenchmark:\n  - {role: worker, command: "wrk --version || true"}\n');
    const out = await race({ racefile: file, exp: 'racetest', set: ['net.install_tools=always'] });
    expect(out.record.status).toBe('completed');
    // The packages are there already: the only changes are the three new per-host folders (gr_data_dir/net).
    expect(out.record.parameters.toolsInstalled).toMatchObject({ playbook: 'net-tools', hosts: ['net1', 'net2', 'net3'], changed: 3 });
    expect((out.record.parameters.toolsInstalled as { packages: string[] }).packages.sort()).toEqual(['nginx-light', 'wrk']);
  });

  it('strict validation names the file and the key', async () => {
    const file = join(home, 'bad.yaml');
    writeFileSync(file, 'benchmark:\n  - {role: worker, command: "true", timeout: soon}\ncollectors:\n  - {type: file, role: worker, source: x, destinaton: y}\n');
    await expect(race({ racefile: file, exp: 'racetest', hosts })).rejects.toThrow(/bad.yaml: benchmark\[0\]/);
    await expect(race({ racefile: RACEFILE, exp: 'racetest', hosts, params: ['server_role=control'] })).rejects.toThrow(/static-http.yaml.njk: template error/);
  });

  it('Ctrl-C during the benchmark stops everything and exits 130', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../../entrypoint.ts'), 'race', RACEFILE, '--exp', 'racetest', '--param', 'server_role=broker', '--param', 'client_role=worker', '--param', 'duration=60s', '--param', 'warmup=1s'], {
      env: { ...process.env, GREENRACE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: join(__dirname, '../..'),
    });
    let err = '';
    const started = new Promise<void>((res) => {
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes('benchmark[0]')) res();
      });
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    const early = await Promise.race([started.then(() => 'started'), exited.then((c) => `exited ${c}: ${err}`)]);
    expect(early).toBe('started');
    for (let i = 0; i < 100 && !nsProcesses('net2').includes('wrk'); i++) await new Promise((r) => setTimeout(r, 200));
    expect(nsProcesses('net2')).toContain('wrk');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    onlySshd();
    const runs = readdirSync(join(home, 'results', 'racetest')).filter((d) => existsSync(join(home, 'results', 'racetest', d, 'run.json')));
    const statuses = runs.map((d) => JSON.parse(readFileSync(join(home, 'results', 'racetest', d, 'run.json'), 'utf8')).status);
    expect(statuses).toContain('aborted');
  });
});
