/**
 * Test support for the monitoring integration tests: the real Ansible roles (playbooks/monitoring-stack.yml)
 * deployed on loopback with a local connection, on ports away from the defaults, plus fixture
 * powercap (sysfs) and /proc/stat trees that node_exporter reads instead of the machine's.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../../src/core/paths.js';

export interface LoopbackStack {
  dir: string;
  ports: { node: number; prometheus: number; pushgateway: number };
  promUrl: string;
  pushUrl: string;
  /** ansible-playbook output of the last run. */
  run(action: 'deploy' | 'destroy'): Promise<string>;
}

export function loopbackStack(dir: string, base: number, opts: { sysfs?: string; procfs?: string; scrapeInterval?: number }): LoopbackStack {
  mkdirSync(dir, { recursive: true });
  const ports = { node: base, prometheus: base + 1, pushgateway: base + 2 };
  writeFileSync(
    join(dir, 'inventory.ini'),
    `[control]\nmonlo ansible_connection=local ansible_host=127.0.0.1 gr_data_dir=${dir}/host ansible_python_interpreter=/usr/bin/python3\n`,
  );
  const extra: string[] = [];
  if (opts.sysfs || opts.procfs) extra.push('--collector.disable-defaults', '--collector.rapl', '--collector.cpu', '--collector.textfile');
  const vars = {
    gr_experiment: 'montest',
    gr_shared_fs: true,
    gr_service_ports: { node_exporter: ports.node, prometheus: ports.prometheus, pushgateway: ports.pushgateway },
    gr_scrape_jobs: [
      { job_name: 'node', targets: [`127.0.0.1:${ports.node}`], metrics_path: '/metrics', honor_labels: false },
      { job_name: 'pushgateway', targets: [`127.0.0.1:${ports.pushgateway}`], metrics_path: '/metrics', honor_labels: true },
    ],
    gr_config: { monitoring: { scrape_interval: opts.scrapeInterval ?? 1, retention: '1d', external_labels: {}, remote_write: [] }, energy: { scaphandre: {} } },
    node_exporter_sysfs: opts.sysfs ?? '/sys',
    node_exporter_procfs: opts.procfs ?? '/proc',
    node_exporter_extra_args: extra,
  };
  writeFileSync(join(dir, 'vars.json'), JSON.stringify(vars));
  return {
    dir,
    ports,
    promUrl: `http://127.0.0.1:${ports.prometheus}`,
    pushUrl: `http://127.0.0.1:${ports.pushgateway}`,
    async run(action) {
      // Asynchronous on purpose: the tests keep advancing fixture counters while Ansible runs.
      const { stdout } = await promisify(execFile)(
        'ansible-playbook',
        ['-i', join(dir, 'inventory.ini'), 'playbooks/monitoring-stack.yml', '-e', `@${join(dir, 'vars.json')}`, '-e', `gr_monitoring_action=${action}`],
        { cwd: assetPath('ansible'), env: { ...process.env, ANSIBLE_CONFIG: assetPath('ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' }, encoding: 'utf8', maxBuffer: 64 << 20 },
      );
      return stdout;
    },
  };
}

/** Write a file so a concurrent reader sees the old or the new content. */
export function writeAtomic(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

/** The `changed=N` of a host in an ansible-playbook recap. */
export function recapChanged(out: string, host: string): number {
  const m = new RegExp(`^${host}\\s+:.*changed=(\\d+)`, 'm').exec(out);
  if (!m) throw new Error(`no recap for ${host} in:\n${out.slice(-2000)}`);
  return Number(m[1]);
}
