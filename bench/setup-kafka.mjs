// bench/setup-kafka (issue 17 item 3): `setup` of 3 local hosts with Kafka and the monitoring stack
// (experiments/quickstart.yaml: control + broker + worker; node_exporter, prometheus, pushgateway,
// scaphandre, kafka), then a second `setup` with nothing to change (a checkout with `setup --converge`
// skips setup.yml there), then `setup --converge` where the checkout has it (setup.yml run with
// nothing to change: every task `ok`), then killjob; A and B in turn.
// Needs root (network namespaces) and Kafka's jars resolved (setup/install-kafka.sh).
//   node bench/setup-kafka.mjs --a /path/to/baseline-checkout [--b /path/to/checkout] [--reps 3]
// One JSON line per side and repetition (wall seconds, the setup log's slowest tasks), then the medians.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, load1, makeHome, parseArgs, summarize } from './ab.mjs';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const o = parseArgs(process.argv.slice(2), here);
const yaml = readFileSync(join(here, 'experiments', 'quickstart.yaml'), 'utf8');

/** The `slowest tasks` lines setup prints with --timings (both sides print them since ed32a72). */
const slowest = (stderr) => [...(stderr.matchAll(/^\s+([\d.]+) s {2}(.+?) {2}\(/gm) ?? [])].slice(0, 5).map((m) => `${m[1]} s ${m[2]}`);

function side(label, root, rep) {
  const exp = `bench-setup-${label}`;
  const home = makeHome(`gr-bench-setup-${label}-`, exp, yaml);
  const loadavg_1m = load1();
  try {
    const first = cli(root, home, ['setup', exp, '--timings']);
    const again = cli(root, home, ['setup', exp, '--timings']);
    const canConverge = cli(root, home, ['setup', '--help']).stdout.includes('--converge');
    const converge = canConverge ? cli(root, home, ['setup', exp, '--converge', '--timings']) : undefined;
    const kill = cli(root, home, ['killjob', exp]);
    const r = {
      bench: 'setup-kafka',
      side: label,
      root,
      rep,
      hosts: 3,
      setup_s: first.s,
      setup_again_s: again.s,
      again_skipped_play: /setup\.yml skipped/.test(again.stdout),
      setup_converge_s: converge?.s ?? null,
      killjob_s: kill.s,
      loadavg_1m,
      slowest_first: slowest(first.stderr + first.stdout),
      slowest_again: slowest(again.stderr + again.stdout),
      slowest_converge: converge ? slowest(converge.stderr + converge.stdout) : null,
    };
    console.log(JSON.stringify(r));
    return r;
  } finally {
    cli(root, home, ['killjob', exp], { allowFail: true });
  }
}

const pairs = [];
for (let rep = 1; rep <= o.reps; rep++) pairs.push({ a: side('a', o.a, rep), b: side('b', o.b, rep) });
summarize('setup-kafka', pairs, ['setup_s', 'setup_again_s', 'setup_converge_s', 'killjob_s']);
