import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CONTROL_DIR, callbackDir, controlPathDir, forksFor, renderAnsibleCfg, rolesDir, writeAnsibleCfg } from '../../../src/ansible/config.js';

function ini(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let sec = '';
  for (const line of text.split('\n')) {
    const s = /^\[(.+)\]$/.exec(line.trim());
    if (s) out[(sec = s[1]!)] = {};
    const kv = /^([a-z_]+)\s*=\s*(.*)$/.exec(line.trim());
    if (kv && sec) out[sec]![kv[1]!] = kv[2]!;
  }
  return out;
}

describe('ansible.cfg', () => {
  const cfg = ini(renderAnsibleCfg({ stateDir: '/w/.greenrace/app-cfg', hostCount: 12 }));

  it('uses the measured settings: pipelining, ControlMaster/ControlPersist, python3', () => {
    expect(cfg.ssh_connection!.pipelining).toBe('True');
    expect(cfg.ssh_connection!.ssh_args).toContain('-o ControlMaster=auto -o ControlPersist=60s');
    expect(cfg.defaults!.interpreter_python).toBe('/usr/bin/python3');
    expect(cfg.defaults!.forks).toBe('12');
  });

  it('keeps control sockets, inventory and temp files under the experiment state', () => {
    expect(cfg.ssh_connection!.control_path_dir).toBe('/w/.greenrace/app-cfg/cp');
    expect(cfg.defaults!.inventory).toBe('/w/.greenrace/app-cfg/inventory.yaml');
    expect(cfg.defaults!.local_tmp).toBe('/w/.greenrace/app-cfg/tmp');
  });

  it("loads the repository's roles and the JSON-lines callback", () => {
    expect(cfg.defaults!.roles_path).toBe(rolesDir());
    expect(existsSync(join(rolesDir(), 'supervise'))).toBe(true);
    expect(cfg.defaults!.callback_plugins).toBe(callbackDir());
    expect(existsSync(join(callbackDir(), 'greenrace_jsonl.py'))).toBe(true);
    expect(cfg.defaults!.callbacks_enabled).toBe('greenrace_jsonl');
  });

  it('bounds forks between 5 and 25', () => {
    expect([1, 3, 12, 40].map(forksFor)).toEqual([5, 5, 12, 25]);
  });

  it('moves control sockets to a short /tmp folder when the state path is too long for a Unix socket', () => {
    const deep = '/tmp/' + 'x'.repeat(80) + '/.greenrace/app-cfg';
    const dir = controlPathDir(deep);
    expect(dir).toMatch(/^\/tmp\/greenrace-cp\/[0-9a-f]{16}$/);
    expect(controlPathDir(deep)).toBe(dir); // killjob finds it again
    // socket path = dir + "/" + 10-char hash + ssh's 17-char temporary suffix, under 108 bytes
    expect(dir.length + 1 + 10 + 17).toBeLessThan(108);
    expect(controlPathDir('/w/.greenrace/x').length).toBeLessThanOrEqual(MAX_CONTROL_DIR);
  });

  const tmp = mkdtempSync(join(tmpdir(), 'gr-app-cfg-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('writes the file and creates a private control folder', () => {
    const p = writeAnsibleCfg({ stateDir: tmp, hostCount: 3 });
    expect(p).toBe(join(tmp, 'ansible.cfg'));
    expect(statSync(join(tmp, 'cp')).mode & 0o777).toBe(0o700);
  });
});
