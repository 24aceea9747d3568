// Latency matrix wall time: N namespace hosts, all-pairs vs ring vs random (netperf TCP_RR -r 32,1024 by
// default, as the matrix does; TOOL=sockperf for sockperf ping-pong), 1 s per measurement.
// Usage: node --import tsx bench/net/matrix-bench.mts 4 12   (root; uses 10.83.0.0/24, torn down after)
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { HostExecutor } from '../../src/runtimes/host/executor.js';
import { measureMatrix } from '../../src/workloads/matrix/run.js';
import { tool } from '../../src/workloads/net/tools/registry.js';
const script = join(import.meta.dirname, 'nethosts.sh');
const ST = '/tmp/greenrace-net';
async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  const t = tool(process.env.TOOL ?? 'netperf');
  for (const n of sizes.length ? sizes : [4, 12]) {
    execFileSync(script, ['down', 'net', ST]);
    execFileSync(script, ['up', String(n), 'net', '10.83.0', ST]);
    const hosts = Array.from({ length: n }, (_, k) => ({ name: `net${k + 1}`, address: `10.83.0.${11 + k}`, port: 22, user: 'root', keyFile: `${ST}/ssh/id`, roles: ['worker' as const], vars: { ansible_ssh_common_args: `-o UserKnownHostsFile=${ST}/ssh/known_hosts` }, dataDir: `${ST}/hosts/net${k + 1}/data` }));
    const ex = new HostExecutor();
    try {
      for (const mode of ['all-pairs', 'ring', 'random'] as const) {
        const t0 = Date.now();
        const m = await measureMatrix(ex, hosts, t, { tool: t.name, protocol: 'tcp', streams: 1, duration: 1, reverse: false, port: t.defaultPort ?? 12865, requestSize: 32, responseSize: 1024 }, { mode });
        console.log(`tool=${t.name} hosts=${n} mode=${mode} pairs=${m.pairs} rounds=${m.rounds} measured=${m.rows.filter((r) => r.latency).length} wall_s=${((Date.now() - t0) / 1000).toFixed(1)} load1=${execFileSync('cat', ['/proc/loadavg']).toString().split(' ')[0]}`);
      }
    } finally {
      await ex.close();
      execFileSync(script, ['down', 'net', ST]);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
