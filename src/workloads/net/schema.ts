import { z } from 'zod';
import { ROLES } from '../../core/types.js';
import { count, duration } from '../../config/schema/common.js';
import { LATENCY_TOOLS, MEASURE_TOOLS } from './tools/registry.js';

const ROLE = z.enum(ROLES);

/** A tc rate: `100mbit`, `1gbit`, `500kbit`. */
const tcRate = z.string().regex(/^\d+(\.\d+)?(bit|kbit|mbit|gbit|tbit)$/, 'a tc rate like "100mbit" or "1gbit"');

/**
 * Network emulation between two roles (tc netem under an htb class per peer): `delay` one way in
 * each direction (so a round trip gains twice it), optional jitter, rate limit and loss.
 */
export const netemConstraintSchema = z.strictObject({
  between: z.tuple([ROLE, ROLE]),
  delay: duration({ min: 0, max: 10 }).optional(),
  jitter: duration({ min: 0, max: 10 }).optional(),
  rate: tcRate.optional(),
  loss: z.number().min(0).max(100).optional(),
});

export const matrixSchema = z
  .strictObject({
    /**
     * The latency tool (a tool of the registry that gives latency percentiles): netperf TCP_RR as in
     * the seed; sockperf's half round trips are converted to round trips (× 2).
     */
    tool: z.enum(LATENCY_TOOLS).default('netperf'),
    /** all-pairs (every ordered pair), ring (each host to the next), random (each host to a random other host, the seed's runNetperf.pl). */
    mode: z.enum(['all-pairs', 'ring', 'random']).default('all-pairs'),
    /**
     * runtime k3s: the network measured, between the latency servers of a DaemonSet on the pod
     * network (pod to pod) or of one on the host network (node to node).
     */
    network: z.enum(['pod', 'host']).default('pod'),
    /** Roles whose hosts are in the matrix (default: every host). */
    roles: z.array(ROLE).optional(),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    duration: duration({ min: 1, max: 600 }).default(2),
    /** sockperf's message size (-m, bytes; its reply has the same size). netperf uses request_size/response_size. */
    message_size: count(14, 65000).optional(),
    /** netperf request and response sizes, bytes (`-r request,response`; the seed's 32,1024). */
    request_size: count(1, 65000).default(32),
    response_size: count(1, 65000).default(1024),
    port: count(1024, 65535).default(11111),
    /** Metric and CSV column prefix: `<prefix>_p50_latency_microseconds` (netperf, as the network-aware scheduler reads). */
    metric_prefix: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/).default('netperf'),
    /** Push to the experiment's Pushgateway when it has one. */
    push: z.boolean().default(true),
    /** Pushgateway job name (grouping key: job + experiment). */
    push_job: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/).default('greenrace_latency'),
  })
  .prefault({});

export const netSchema = z
  .strictObject({
    tool: z.enum(MEASURE_TOOLS).default('iperf3'),
    server_role: ROLE.default('worker'),
    client_role: ROLE.default('worker'),
    /** Allow server and client on the same host when the roles leave no other choice. */
    allow_same_host: z.boolean().default(false),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    streams: count(1, 128).default(1),
    duration: duration({ min: 1, max: 86400 }).default(10),
    message_size: count(1, 64 * 1024 * 1024).optional(),
    bitrate: z.string().regex(/^\d+(\.\d+)?[KMG]?$/).optional(),
    reverse: z.boolean().default(false),
    /** Server port; default: the tool's own (tools/<tool>/index.ts: iperf3 5201, uperf 20000, netperf 12865, sockperf 11111). */
    port: count(1024, 65535).optional(),
    /** iperf3 -O: seconds at the start of the test left out of the results (the Arcaflow iperf3 workflow's `omit`). */
    omit: duration({ min: 0, max: 600 }).default(0),
    /**
     * runtime k3s: the pods' network. `pod` (server and client pods on the pod network, the client
     * reaching the server through its Service, as the Arcaflow workflows do) or `host` (both pods on
     * their node's network, the client connecting to the server node's address).
     */
    network: z.enum(['pod', 'host']).default('pod'),
    /** netperf test name. */
    netperf_test: z.enum(['TCP_RR', 'UDP_RR', 'TCP_CRR', 'TCP_STREAM', 'UDP_STREAM']).optional(),
    /** Record PCP metrics (pmlogger) on the server and client during the run. */
    pcp: z.boolean().default(false),
    pcp_interval: duration({ min: 0.1, max: 60 }).default(1),
    /**
     * When net/race run ansible/playbooks/net-tools.yml on the experiment's hosts (needs the state of
     * `setup`): `missing` when the preflight finds a program missing, `always` before every run, `never`.
     */
    install_tools: z.enum(['missing', 'always', 'never']).default('missing'),
    uperf: z
      .strictObject({
        /** A uperf release tarball (path on the controller, or URL) the uperf role builds from. */
        source: z.string().min(1).optional(),
      })
      .prefault({}),
    matrix: matrixSchema,
    /** Emulated network constraints between roles (see docs/network.md). */
    netem: z.array(netemConstraintSchema).default([]),
    /** When netem constraints are applied: by `setup`, or only for the duration of each `net`/`race` run. */
    netem_apply: z.enum(['setup', 'run']).default('run'),
  })
  .prefault({});

export type NetConfig = z.output<typeof netSchema>;
export type MatrixConfig = NetConfig['matrix'];
