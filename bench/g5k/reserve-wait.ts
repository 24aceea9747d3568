// Bench: a reservation whose job waits 10 minutes (double clock) before it starts.
// Counts API calls and measures wall time. From the repository root (tsx is a dev dependency):
//   npx tsx bench/g5k/reserve-wait.ts [--speed 60] [--wait 600]
import { parseArgs } from 'node:util';
import type { Clock } from '../../src/platforms/g5k/clock.js';
import { G5kApi } from '../../src/platforms/g5k/api.js';
import { Secret } from '../../src/platforms/g5k/credentials.js';
import { jobSpecs, type RolePlacement } from '../../src/platforms/g5k/oar.js';
import { reserveJobs } from '../../src/platforms/g5k/reservation.js';
import { G5kDouble } from '../../test/support/g5k-double/server.js';

const { values } = parseArgs({ options: { speed: { type: 'string', default: '60' }, wait: { type: 'string', default: '600' } } });
const speed = Number(values.speed);
const wait = Number(values.wait);
const double = new G5kDouble({ speed, users: { bench: 'bench-pw' }, jobWaitSeconds: wait, jobLaunchSeconds: 10 });
await double.start();
const api = new G5kApi({ baseUrl: double.url, credentials: { username: 'bench', password: new Secret('bench-pw'), origin: 'bench' } });
// The client sleeps in double time: real sleep = double seconds / speed.
const clock: Clock = { now: () => double.clock.now(), sleep: (s) => new Promise((r) => setTimeout(r, (s * 1000) / speed)) };
const placements: RolePlacement[] = [
  { role: 'control', count: 1, site: 'rennes', cluster: 'paravance', nodes: [] },
  { role: 'broker', count: 3, site: 'rennes', cluster: 'paravance', nodes: [] },
  { role: 'worker', count: 2, site: 'rennes', cluster: 'paravance', nodes: [] },
];
const specs = jobSpecs(placements, { name: 'bench-wait', walltime: '02:00:00', queue: 'default', types: ['deploy'] });
const lines: string[] = [];
const t0 = performance.now();
const d0 = double.clock.now();
const { jobs } = await reserveJobs(specs, { api, clock, user: 'bench', progress: (l) => lines.push(l) });
const wallS = (performance.now() - t0) / 1000;
const doubleS = double.clock.now() - d0;
const byEndpoint = Object.fromEntries(double.calls);
await double.stop();
const out = {
  job_wait_double_s: wait,
  speed,
  state: jobs[0]!.state,
  api_calls_client: api.calls,
  api_calls_seen_by_double: Object.values(byEndpoint).reduce((a, b) => a + b, 0),
  by_endpoint: byEndpoint,
  double_clock_elapsed_s: Math.round(doubleS),
  wall_s: Number(wallS.toFixed(2)),
  wall_s_at_real_speed: Number((wallS * speed).toFixed(0)),
  naive_5s_polling_calls: Math.ceil((wait + 10) / 5) + 2,
  progress_lines: lines,
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
