/**
 * Start the Grid'5000 API double by hand (from the repository root; tsx is a dev dependency):
 *   npx tsx test/support/g5k-double/main.ts [--port 8085] [--speed 1] [--user alice --password-env G5K_DOUBLE_PASSWORD]
 *        [--anonymous-user alice] [--job-wait 20] [--deploy-seconds 20]
 *        [--map-cluster paravance --map 10.84.0.11,10.84.0.12,...] [--public-key FILE]
 *        [--fail-deploy paravance-2:2,...] [--pid-file FILE]
 * It prints the API URL and, with --map, the `platform.g5k` snippet (api_url, address_map,
 * shared_filesystem, public_key) that points an experiment at it. Stops on Ctrl-C or SIGTERM. With
 * --pid-file it writes the pid of the process serving the API there (npx and tsx run it as a child,
 * so `$!` of the shell is not that process) and removes the file when it stops.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { G5kDouble } from './server.js';
import { DEFAULT_CLUSTERS } from './fixtures.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8085' },
    host: { type: 'string', default: '127.0.0.1' },
    speed: { type: 'string', default: '1' },
    user: { type: 'string' },
    'password-env': { type: 'string', default: 'G5K_DOUBLE_PASSWORD' },
    'anonymous-user': { type: 'string' },
    'job-wait': { type: 'string', default: '20' },
    'deploy-seconds': { type: 'string', default: '20' },
    'map-cluster': { type: 'string', default: 'paravance' },
    map: { type: 'string' },
    'public-key': { type: 'string' },
    'fail-deploy': { type: 'string' },
    'pid-file': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: npx tsx test/support/g5k-double/main.ts [--port N] [--speed X] [--user U] [--password-env VAR]\n' +
      '               [--anonymous-user U] [--job-wait S] [--deploy-seconds S]\n' +
      '               [--map-cluster C --map IP,IP,...] [--public-key FILE] [--fail-deploy NODE:TIMES,...] [--pid-file FILE]\n',
  );
  process.exit(0);
}

const clusters = DEFAULT_CLUSTERS.map((c) => ({ ...c }));
const mapped = values.map ? values.map.split(',').filter(Boolean) : [];
const mapCluster = clusters.find((c) => c.uid === values['map-cluster']);
if (mapped.length) {
  if (!mapCluster) {
    process.stderr.write(`no cluster ${values['map-cluster']} in the double (known: ${clusters.map((c) => c.uid).join(', ')})\n`);
    process.exit(2);
  }
  // The cluster has exactly the mapped hosts, so every node handed out has a local address.
  mapCluster.nodes = mapped.length;
}
const users: Record<string, string> = {};
if (values.user) {
  const pw = process.env[values['password-env']!];
  if (!pw) {
    process.stderr.write(`--user needs the password in the environment variable ${values['password-env']}\n`);
    process.exit(2);
  }
  users[values.user] = pw;
}
const double = new G5kDouble({
  port: Number(values.port),
  host: values.host!,
  speed: Number(values.speed),
  clusters,
  jobWaitSeconds: Number(values['job-wait']),
  deployProcessSeconds: Number(values['deploy-seconds']),
  ...(values.user ? { users } : {}),
  ...(values['anonymous-user'] ? { anonymousUser: values['anonymous-user'] } : {}),
});
for (const item of (values['fail-deploy'] ?? '').split(',').filter(Boolean)) {
  const [node, times] = item.split(':');
  if (!node || !/^\d+$/.test(times ?? '')) {
    process.stderr.write(`--fail-deploy ${item}: expected NODE:TIMES, e.g. paravance-2:2\n`);
    process.exit(2);
  }
  double.faults.deployFailures = { ...double.faults.deployFailures, [node]: Number(times) };
}
const url = await double.start();
const pidFile = values['pid-file'];
if (pidFile) writeFileSync(pidFile, `${process.pid}\n`);
process.stdout.write(`Grid'5000 API double listening at ${url} (clock speed ${values.speed})\n`);
process.stdout.write(`control: ${url.replace(/\/stable$/, '')}/__double/{stats,advance,speed,faults,jobs,energy}\n`);
if (mapped.length && mapCluster) {
  process.stdout.write(
    `\n# experiment snippet (run setup with GREENRACE_G5K_TIME_SCALE=${values.speed})\nplatform:\n  kind: g5k\n  g5k:\n    cluster: ${mapCluster.uid}\n    api_url: ${url}\n` +
      (values['public-key'] ? `    public_key: ${values['public-key']}\n` : '') +
      `    shared_filesystem: true\n    address_map:\n`,
  );
  double.nodeFqdns(mapCluster).forEach((fq, i) => process.stdout.write(`      ${fq}: ${mapped[i]}\n`));
}
const stop = async (): Promise<void> => {
  await double.stop();
  if (pidFile) rmSync(pidFile, { force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
