// A synthetic RAPL machine for the energy tests: advances powercap trees (energy_uj of a package
// zone and its dram domain, in µJ) and a /proc/stat at known rates, every 20 ms, with atomic writes.
//   node energy-writer.mjs <config.json>
// config: { trees: [{ dir, pkgLowW, pkgHighW, dramW }], proc?: { dir, busy: [fractions per CPU] } }
// Prints `start <epoch s>` once everything is written. A line `step <epoch s>` on stdin switches every
// package from its low to its high power at that time. The joules written up to t are exactly
//   package: low·(min(t, step) − start) + high·max(0, t − step)     dram: dramW·(t − start)
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const RANGE_UJ = 262_143_328_850; // a real package's max_energy_range_uj: no wrap within the test
const start = Date.now() / 1000;
let step = Infinity;

const atomic = (path, text) => {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
};
const pkgJoules = (t, z) => z.pkgLowW * (Math.min(t, step) - start) + z.pkgHighW * Math.max(0, t - step);

// The sysfs layout: the dram domain lives under its package and is also listed at the top, as
// /sys/class/powercap lists every zone (Scaphandre and node_exporter read the top-level entries).
for (const z of cfg.trees) {
  const pkg = join(z.dir, 'intel-rapl:0');
  const dram = join(pkg, 'intel-rapl:0:0');
  mkdirSync(dram, { recursive: true });
  if (!existsSync(join(z.dir, 'intel-rapl:0:0'))) symlinkSync(join('intel-rapl:0', 'intel-rapl:0:0'), join(z.dir, 'intel-rapl:0:0'));
  writeFileSync(join(pkg, 'name'), 'package-0\n');
  writeFileSync(join(dram, 'name'), 'dram\n');
  for (const d of [pkg, dram]) writeFileSync(join(d, 'max_energy_range_uj'), `${RANGE_UJ}\n`);
}
if (cfg.proc) mkdirSync(cfg.proc.dir, { recursive: true });

const tick = () => {
  const t = Date.now() / 1000;
  for (const z of cfg.trees) {
    const pkg = join(z.dir, 'intel-rapl:0');
    atomic(join(pkg, 'energy_uj'), `${Math.floor(pkgJoules(t, z) * 1e6) % RANGE_UJ}\n`);
    atomic(join(pkg, 'intel-rapl:0:0', 'energy_uj'), `${Math.floor(z.dramW * (t - start) * 1e6) % RANGE_UJ}\n`);
  }
  if (cfg.proc) {
    const s = (t - start) * 100 + 1000; // USER_HZ ticks
    const cpus = cfg.proc.busy.map((b) => ({ user: Math.floor(b * s), idle: Math.floor((1 - b) * s) }));
    const all = cpus.reduce((a, c) => ({ user: a.user + c.user, idle: a.idle + c.idle }), { user: 0, idle: 0 });
    const line = (n, c) => `${n} ${c.user} 0 0 ${c.idle} 0 0 0 0 0 0`;
    atomic(
      join(cfg.proc.dir, 'stat'),
      [line('cpu ', all), ...cpus.map((c, i) => line(`cpu${i}`, c)), 'intr 0', 'ctxt 0', 'btime 1700000000', 'processes 1', 'procs_running 1', 'procs_blocked 0', ''].join('\n'),
    );
  }
};
tick();
setInterval(tick, 20);
process.stdout.write(`start ${start}\n`);
createInterface({ input: process.stdin }).on('line', (l) => {
  const m = /^step (\d+(?:\.\d+)?)$/.exec(l.trim());
  if (m) step = Number(m[1]);
});
process.stdin.on('end', () => process.exit(0));
