/**
 * Sample variables for every template of templates/k8s/: the unit test renders each with them and
 * the cluster test validates each against the API server (server-side dry-run). A template without
 * a sample here fails both.
 */
/** node-volumes.njk's sample variables for a broker service: one volume on each of two broker nodes. */
const sampleVolumes = (service: 'kafka' | 'redpanda'): Record<string, unknown> => ({
  storageClass: `greenrace-${service}-sample`,
  volumes: ['broker-1', 'broker-2'].map((node) => ({ name: `greenrace-${service}-sample-${node}`, node, path: `/tmp/greenrace/${node}/k8s-${service}` })),
  size: '10Gi',
});

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
  'kafka.yaml.njk': {
    image: 'greenrace.local/kafka:0123456789ab',
    replicas: 2,
    brokers: ['10.0.0.2', '10.0.0.3'],
    controllers: 2,
    port: 9092,
    controllerPort: 9093,
    jmxPort: 7071,
    heap: '512m',
    jvmOpts: '-server -XX:+UseG1GC',
    clusterId: '0123456789abcdef01234A',
    properties: 'num.partitions=6\nauto.create.topics.enable=false\n',
    jmxConfig: 'lowercaseOutputName: true\nrules: []\n',
    ...sampleVolumes('kafka'),
  },
  'redpanda.yaml.njk': {
    image: 'docker.redpanda.com/redpandadata/redpanda:v24.3.1',
    replicas: 2,
    brokers: ['10.0.0.2', '10.0.0.3'],
    port: 9092,
    adminPort: 9644,
    rpcPort: 33145,
    startFlags: ['--smp=1', '--memory=1G'],
    tune: true,
    bootstrap: 'write_caching_default: false\n',
    ...sampleVolumes('redpanda'),
  },
  'monitoring.yaml.njk': {
    image: 'greenrace.local/monitoring:0123456789ab',
    nodeExporter: { port: 9100 },
    pushgateway: { node: 'control-1', port: 9091 },
    prometheus: { node: 'control-1', port: 9090, config: 'global: {scrape_interval: 2000ms}\nscrape_configs: []\n', digest: '0123456789abcdef', fileSdDir: '/tmp/greenrace/control-1/prometheus/file_sd', fileSdJobs: ['greenrace_loadgen'], retention: '7d' },
  },
  'scaphandre.yaml.njk': { image: 'greenrace.local/scaphandre:0123456789ab', port: 8080, vmRoot: '/tmp/greenrace' },
  'loadgen-job.yaml.njk': {
    name: 'loadgen-1a2b3c4d-worker-1-0',
    instance: 'worker-1-0',
    node: 'worker-1',
    image: 'greenrace.local/loadgen:0123456789ab',
    node_bin: '/usr/local/bin/node',
    entrypoint: '/opt/greenrace/dist/entrypoint.js',
    dataDir: '/tmp/greenrace/worker-1',
    dir: '/tmp/greenrace/worker-1/ingest/1a2b3c4d',
    plan: '/tmp/greenrace/worker-1/ingest/1a2b3c4d/plan.json',
    summary: '/tmp/greenrace/worker-1/ingest/1a2b3c4d/worker-1-0.json',
    logfile: '/tmp/greenrace/worker-1/ingest/1a2b3c4d/loadgen-worker-1-0.log',
    grace: 10,
  },
};
