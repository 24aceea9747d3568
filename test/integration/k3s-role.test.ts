/**
 * The k3s role (ansible/roles/k3s) cannot run here: no registry serves the k3s binary and this machine
 * has no systemd as PID 1. What can be checked is checked for real: it lints clean, the playbook that
 * calls it passes the syntax check, its templates render the configuration a k3s server and agents
 * read (with greenrace's role labels, traefik and servicelb off, the flannel backend, a registry
 * mirror only when asked), and its preflight refuses what it must refuse, before touching anything.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './setup-support.js';

const ANSIBLE = join(REPO, 'ansible');
let dir = '';

function playbook(args: string[], env: Record<string, string> = {}) {
  return execa('ansible-playbook', args, {
    cwd: ANSIBLE,
    env: { ANSIBLE_CONFIG: join(ANSIBLE, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ...env },
    reject: false,
    all: true,
    timeout: 300_000,
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gr-k3s-role-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('k3s role', () => {
  it('lints clean with the repository profile and passes the syntax check in the cluster playbook', async () => {
    const lint = await execa('ansible-lint', ['--nocolor', 'roles/k3s', 'playbooks/kubernetes.yml'], { cwd: ANSIBLE, reject: false, all: true, timeout: 600_000 });
    expect(lint.all).toMatch(/Passed with production profile: 0 failure/);
    const syntax = await playbook(['--syntax-check', '-i', 'localhost,', 'playbooks/kubernetes.yml', '-e', 'gr_k8s_distribution=k3s']);
    expect(syntax.exitCode, syntax.all).toBe(0);
  });

  it('renders the server and agent configuration and the registry mirrors', async () => {
    // A play that loads the role's defaults and renders its templates as the role does, for a server
    // (control-1) and an agent (worker-1), into this test's folder.
    const pb = join(dir, 'render.yml');
    writeFileSync(
      pb,
      [
        '- hosts: localhost',
        '  gather_facts: false',
        `  vars_files: ["${join(ANSIBLE, 'roles/k3s/defaults/main.yml')}"]`,
        '  vars:',
        '    _k3s_token: t0ken',
        '    _k3s_server_ip: 192.0.2.10',
        '  tasks:',
        '    - name: Render the configuration',
        '      ansible.builtin.template:',
        `        src: "${join(ANSIBLE, 'roles/k3s/templates/config.yaml.j2')}"`,
        `        dest: "${dir}/{{ item.name }}.yaml"`,
        '        mode: "0600"',
        '      vars:',
        '        inventory_hostname: "{{ item.name }}"',
        '        _k3s_is_server: "{{ item.server }}"',
        '        _k3s_ip: "{{ item.ip }}"',
        '        _k3s_role: "{{ item.role }}"',
        '      loop:',
        '        - {name: control-1, server: true, ip: 192.0.2.10, role: control}',
        '        - {name: worker-1, server: false, ip: 192.0.2.11, role: worker}',
        '    - name: Render registries.yaml',
        '      ansible.builtin.template:',
        `        src: "${join(ANSIBLE, 'roles/k3s/templates/registries.yaml.j2')}"`,
        `        dest: "${dir}/registries.yaml"`,
        '        mode: "0600"',
      ].join('\n') + '\n',
    );
    // The experiment's choices come as extra-vars, as the app passes them (above the role's defaults).
    const extra = { k3s_version: 'v1.34.2+k3s1', k3s_flannel_backend: 'host-gw', k3s_registries: { mirrors: { 'docker.io': { endpoint: ['https://mirror.example.org:5000'] } } } };
    const r = await playbook(['-i', 'localhost,', '-c', 'local', pb, '-e', JSON.stringify(extra)]);
    expect(r.exitCode, r.all).toBe(0);
    const server = yaml.load(readFileSync(join(dir, 'control-1.yaml'), 'utf8')) as Record<string, any>;
    expect(server).toMatchObject({
      'token': 't0ken',
      'node-name': 'control-1',
      'node-ip': '192.0.2.10',
      'node-label': ['greenrace.io/role=control'],
      'flannel-backend': 'host-gw',
      'disable': ['traefik', 'servicelb'],
      'node-taint': ['node-role.kubernetes.io/control-plane=:NoSchedule'],
      'write-kubeconfig-mode': '0600',
      'https-listen-port': 6443,
    });
    expect(server['tls-san']).toContain('192.0.2.10');
    expect(server.server).toBeUndefined();
    const agent = yaml.load(readFileSync(join(dir, 'worker-1.yaml'), 'utf8')) as Record<string, any>;
    expect(agent).toEqual({
      'server': 'https://192.0.2.10:6443',
      'token': 't0ken',
      'node-name': 'worker-1',
      'node-ip': '192.0.2.11',
      'node-label': ['greenrace.io/role=worker'],
    });
    const reg = yaml.load(readFileSync(join(dir, 'registries.yaml'), 'utf8'));
    expect(reg).toEqual({ mirrors: { 'docker.io': { endpoint: ['https://mirror.example.org:5000'] } } });
  });

  describe('refuses before touching the hosts', () => {
    const run = async (vars: Record<string, unknown>) => {
      const state = join(dir, 'state');
      const inv = join(dir, 'inventory.yaml');
      writeFileSync(inv, `all:\n  vars: {gr_state_dir: "${state}", ansible_python_interpreter: /usr/bin/python3}\n  children:\n    control:\n      hosts:\n        localhost: {ansible_connection: local}\n`);
      return playbook(['-i', inv, 'playbooks/kubernetes.yml', '-e', JSON.stringify({ gr_k8s_action: 'deploy', gr_k8s_distribution: 'k3s', ...vars })]);
    };
    const untouched = () => {
      expect(existsSync('/etc/rancher/k3s/config.yaml')).toBe(false);
      expect(existsSync(join(dir, 'state', 'k8s'))).toBe(false);
    };

    it.each([
      ['a channel', 'stable'],
      ['no version', ''],
      ['another minor release', 'v1.33.5+k3s1'],
      ['a version without the k3s suffix', 'v1.34.2'],
    ])('%s as k3s_version', async (_what, version) => {
      const r = await run({ k3s_version: version });
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toContain(`k3s_version must pin a 1.34 release like v1.34.2+k3s1 (got '${version}')`);
      untouched();
    });

    it('an airgap bundle whose files are missing', async () => {
      const r = await run({ k3s_version: 'v1.34.2+k3s1', k3s_airgap_binary: join(dir, 'nope/k3s'), k3s_airgap_install_script: join(dir, 'nope/install.sh') });
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toContain('airgap mode needs k3s_airgap_binary and k3s_airgap_install_script');
      expect(r.all).toContain(join(dir, 'nope/k3s'));
      untouched();
    });

    it('a malformed checksum', async () => {
      const r = await run({ k3s_version: 'v1.34.2+k3s1', k3s_sha256: 'abc' });
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toContain('k3s_sha256 and k3s_install_script_sha256 must be 64 lowercase hex digits');
      untouched();
    });

    it('a host without systemd or OpenRC (this machine)', async () => {
      const r = await run({ k3s_version: 'v1.34.2+k3s1' });
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toMatch(/k3s: localhost runs no systemd or OpenRC \(service manager '[^']*'\), which k3s's installer needs/);
      untouched();
    });
  });
});
