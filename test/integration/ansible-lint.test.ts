import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { assetPath } from '../../src/core/paths.js';

// Every role and playbook must lint clean (ansible-lint, production profile by default) and pass
// `ansible-playbook --syntax-check`: a role that does not lint rots, as OMB's deploy scripts did.
const ansibleDir = assetPath('ansible');

describe('Ansible content', () => {
  it('ansible-lint reports no violation', async () => {
    const r = await execa('ansible-lint', ['--nocolor'], { cwd: ansibleDir, reject: false, timeout: 600_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out, out.split('\n').slice(-40).join('\n')).toMatch(/Passed with .* profile: 0 failure/);
    expect(r.exitCode).toBe(0);
  });

  const playbooks = readdirSync(join(ansibleDir, 'playbooks')).filter((f) => f.endsWith('.yml'));
  it.each(playbooks)('%s passes ansible-playbook --syntax-check', async (pb) => {
    const r = await execa('ansible-playbook', ['--syntax-check', '-i', 'localhost,', join('playbooks', pb)], {
      cwd: ansibleDir,
      reject: false,
      timeout: 120_000,
      env: { ANSIBLE_CONFIG: join(ansibleDir, 'ansible.cfg') },
    });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
  });
});
