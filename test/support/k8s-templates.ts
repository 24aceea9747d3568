/**
 * Sample variables for every template of templates/k8s/: the unit test renders each with them and
 * the cluster test validates each against the API server (server-side dry-run). A template without
 * a sample here fails both.
 */
export const TEMPLATE_SAMPLES: Record<string, Record<string, unknown>> = {
  'namespace.yaml.njk': {},
  'toolbox.yaml.njk': { name: 'gr-toolbox-worker-1-abc', node: 'worker-1', image: 'greenrace.local/tools:0123456789ab', dataDir: '/tmp/greenrace/worker-1' },
  'program.yaml.njk': {
    name: 'iperf3-server-worker-1-abc',
    program: 'iperf3-server',
    node: 'worker-1',
    image: 'greenrace.local/tools:0123456789ab',
    dataDir: '/tmp/greenrace/worker-1',
    dir: '/tmp/greenrace/worker-1/net',
    logfile: '/tmp/greenrace/worker-1/net/iperf3-server.log',
    command: "iperf3 -s -1 -B 10.0.0.1 -p '5201'",
    port: 5201,
    grace: 3,
  },
  'net-server.yaml.njk': { name: 'iperf3-server-1a2b3c', tool: 'iperf3', image: 'greenrace.local/tools:0123456789ab', role: 'worker', hostNetwork: false, command: ['iperf3', '-s', '-p', '5201'], port: 5201, protocols: ['TCP', 'UDP'] },
  'net-client.yaml.njk': { name: 'iperf3-client-1a2b3c', tool: 'iperf3', image: 'greenrace.local/tools:0123456789ab', role: 'worker', hostNetwork: true, serverName: 'iperf3-server-1a2b3c', sameNode: false },
  'latency-daemonsets.yaml.njk': { tool: 'netperf', image: 'greenrace.local/tools:0123456789ab', command: ['netserver', '-D', '-p', '12865'], port: 12865, roles: ['worker'], networks: ['pod', 'host'] },
};
