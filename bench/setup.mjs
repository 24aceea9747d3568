// bench/setup: wall time of `entrypoint setup <exp> --set services=[]` on the local platform for
// 3 and 12 hosts (1 control + 1 broker + N-2 workers), then of a second setup (reattach) and of killjob.
// Needs root. Usage: npx tsc -p tsconfig.json && node bench/setup.mjs [sizes=3,12]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sizes = (process.argv[2] ?? '3,12').split(',').map(Number);
const home = mkdtempSync(join(tmpdir(), 'gr-app-bench-'));
mkdirSync(join(home, 'experiments'));
const env = { ...process.env, GREENRACE_HOME: home, NO_COLOR: '1' };

function timed(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'dist', 'entrypoint.js'), ...args], { cwd: home, env, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return { s: +s.toFixed(2), stderr: r.stderr };
}

const taskTimes = (stderr) =>
  Object.fromEntries([...stderr.matchAll(/[✓✗] (.+?) \(([\d.]+)s\)/g)].map((m) => [m[1], +m[2]]));

try {
  for (const n of sizes) {
    const exp = `app-bench${n}`;
    writeFileSync(join(home, 'experiments', `${exp}.yaml`), `platform: {kind: local}\nroles: {control: 1, broker: 1, worker: ${n - 2}}\nservices: []\n`);
    const load = +loadavg()[0].toFixed(1);
    const first = timed(['setup', exp]);
    const again = timed(['setup', exp]);
    const kill = timed(['killjob', exp]);
    console.log(JSON.stringify({ bench: 'setup', hosts: n, setup_s: first.s, setup_again_s: again.s, killjob_s: kill.s, tasks_first: taskTimes(first.stderr), loadavg_1m: load }));
  }
} finally {
  for (const n of sizes) spawnSync(process.execPath, [join(root, 'dist', 'entrypoint.js'), 'killjob', `app-bench${n}`], { cwd: home, env });
  rmSync(home, { recursive: true, force: true });
}
