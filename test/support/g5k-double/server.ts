import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DoubleClock } from './clock.js';
import type { DoubleCluster, DoubleMetric } from './fixtures.js';
import { DEFAULT_CLUSTERS, energyBetween, METRIC_PERIOD_MS, powerAt } from './fixtures.js';

/**
 * An HTTP double of the Grid'5000 API (g5k-api 3.x): the same paths under /stable, the vnd.grid5000
 * media types and JSON shapes, HTTP Basic auth, OAR jobs and Kadeploy deployments moving through their
 * states on the double's own clock (which its `Date` headers report, so it may run ahead of or behind
 * the client's), the reference API, Kwollect metrics from a known power curve, fault injection
 * (outages, lost answers, holds, refusals), and call counts per endpoint. Control endpoints live
 * under /__double/.
 *
 * Errors are what g5k-api renders: plain text (`render plain: message`). Refusals that come from OAR
 * are wrapped the way g5k-api wraps its internal OAR API call: `Request to <url> failed with status
 * 400: <OAR's JSON error>`, the OAR error being `{code, message, title}` pretty-printed by OAR's API,
 * whose message is oarsub's output.
 */

const ITEM = 'application/vnd.grid5000.item+json; charset=utf-8';
const COLLECTION = 'application/vnd.grid5000.collection+json; charset=utf-8';

export interface DoubleOptions {
  port?: number;
  host?: string;
  /** Path prefix of the API (default `/stable`). */
  prefix?: string;
  /** Accepted Basic credentials. Requests without them get 401 (our choice for "outside Grid'5000"). */
  users?: Record<string, string>;
  /** Inside-Grid'5000 mode: requests without credentials act as this user. */
  anonymousUser?: string;
  /** Clock speed (1 = real time, 0 = only advance() moves it). */
  speed?: number;
  start?: number;
  clusters?: DoubleCluster[];
  /** Seconds a job waits before starting (default 30) and spends launching (default 10). */
  jobWaitSeconds?: number;
  jobLaunchSeconds?: number;
  /** Seconds a deployment waits (default 5) and then processes (default 60). */
  deployWaitSeconds?: number;
  deployProcessSeconds?: number;
  /** Kwollect answers at most this many samples (default 100000); more is a 400. */
  maxMetricSamples?: number;
}

export interface Faults {
  /** The next submitted job ends in state `error` with this message at its start time. */
  jobError?: string;
  /** The next submission is refused: "This reservation could run at <date>". Epoch seconds. */
  couldRunAt?: number;
  /** The next submission is refused: "Reservation too old". */
  reservationTooOld?: boolean;
  /** The next `count` API requests whose path contains `match` answer `status` (default 503). */
  http5xx?: { count: number; status?: number; match?: string };
  /** The next `count` requests whose path contains `match` are answered after `ms` real milliseconds. */
  slow?: { count: number; ms: number; match?: string };
  /** Node (fqdn or short name) → how many of its next deployments end KO. */
  deployFailures?: Record<string, number>;
  /** Wait before start for the next submitted jobs (overrides jobWaitSeconds). */
  jobWaitSeconds?: number;
  /**
   * The API is unreachable until the double's clock reaches `until` (epoch s): every request under
   * the API prefix gets the front proxy's 503 page (`mode: '503'`, default) or a reset connection
   * (`mode: 'reset'`). Control endpoints keep working.
   */
  outage?: { until: number; mode?: '503' | 'reset' };
  /**
   * The next `count` requests with this method whose path contains `match` are carried out, but their
   * answer is lost: the client gets a 502 from the front proxy (the job or deployment exists all the same).
   */
  lostAnswer?: { count: number; method?: string; match?: string };
  /** The next submitted job is put on hold by OAR (state `hold`) with this event description. */
  jobHold?: string;
}

interface JobRec {
  uid: number;
  site: string;
  user: string;
  name: string | null;
  project: string | null;
  queue: string;
  types: string[];
  command: string;
  resources: string;
  walltime: number;
  reservation: string | null;
  submitted_at: number;
  scheduled_at: number;
  started_at: number;
  nodes: string[];
  error?: string;
  killed_at?: number;
  /** Held by OAR (waiting jobs) or suspended (running jobs) since this time, with OAR's event text. */
  held?: { state: 'hold' | 'suspended'; since: number; event: string };
}

interface DeployRec {
  uid: string;
  site: string;
  user: string;
  environment: string;
  nodes: string[];
  ko: Set<string>;
  created_at: number;
  canceled_at?: number;
  key: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * An OAR refusal as g5k-api passes it on: its internal call to OAR's API failed, and the message is
 * that call's URL, status and body (OAR's `{code, message, title}` error, pretty-printed).
 */
function oarError(site: string, path: string, status: number, title: string, message: string): HttpError {
  const body = `{\n   "code" : ${status},\n   "message" : ${JSON.stringify(message)},\n   "title" : ${JSON.stringify(title)}\n}\n`;
  return new HttpError(status, `Request to https://api-out.grid5000.fr/sites/${site}/internal/oarapi/${path} failed with status ${status}: ${body}`);
}

/** oarsub's output when it refuses a job (exit status 22 for admission rules and resources). */
function oarsubRefusal(site: string, resources: string, lines: string[]): HttpError {
  const output = [...lines, 'OAR_JOB_ID=-5', 'Oarsub failed: please verify your request syntax or ask for support to your admin.'].join('\n');
  return oarError(site, 'jobs.json', 400, 'Oar server error', `Oarsub command exited with status 22: ${output}\nCmd:\noarsub --resource="${resources}" --command="sleep 31536000"`);
}

export class G5kDouble {
  readonly clock: DoubleClock;
  readonly faults: Faults = {};
  /** Requests per endpoint, e.g. `GET /sites/{site}/jobs/{id}` → 12. */
  readonly calls = new Map<string, number>();
  readonly jobs: JobRec[] = [];
  readonly deployments: DeployRec[] = [];
  /** Last Authorization-free view of each request, for tests ("no password in URLs"). */
  readonly requestLog: string[] = [];
  clusters: DoubleCluster[];
  #server: Server | undefined;
  #nextJob = 1_000_000;
  readonly #o: Required<Omit<DoubleOptions, 'users' | 'anonymousUser' | 'port' | 'host' | 'start' | 'speed' | 'clusters'>> & DoubleOptions;
  url = '';

  constructor(opts: DoubleOptions = {}) {
    this.#o = {
      prefix: '/stable',
      jobWaitSeconds: 30,
      jobLaunchSeconds: 10,
      deployWaitSeconds: 5,
      deployProcessSeconds: 60,
      maxMetricSamples: 100_000,
      ...opts,
    };
    this.clock = new DoubleClock(opts.start, opts.speed ?? 1);
    this.clusters = opts.clusters ?? DEFAULT_CLUSTERS.map((c) => ({ ...c }));
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(this.#o.port ?? 0, this.#o.host ?? '127.0.0.1', resolve));
    const a = this.#server.address() as AddressInfo;
    this.url = `http://${this.#o.host ?? '127.0.0.1'}:${a.port}${this.#o.prefix}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server!.close(() => r()));
    this.#server = undefined;
  }

  /** Total requests whose endpoint key starts with `prefix` (all when omitted). */
  count(prefix = ''): number {
    let n = 0;
    for (const [k, v] of this.calls) if (k.startsWith(prefix)) n += v;
    return n;
  }

  // ---- model ------------------------------------------------------------------------------------

  nodeFqdns(cluster: DoubleCluster): string[] {
    return Array.from({ length: cluster.nodes }, (_, i) => `${cluster.uid}-${i + 1}.${cluster.site}.grid5000.fr`);
  }

  /** Global index of a node (its power curve), from an fqdn or a short name. */
  nodeIndex(node: string): number {
    const short = node.split('.')[0]!;
    let i = 0;
    for (const c of this.clusters) {
      for (let n = 1; n <= c.nodes; n++, i++) if (`${c.uid}-${n}` === short) return i;
    }
    return -1;
  }

  /** The exact energy (J) the double's curve gives for a node over [a, b]. */
  energy(node: string, metric: DoubleMetric, a: number, b: number): number {
    return energyBetween(this.nodeIndex(node), metric, a, b);
  }

  jobState(j: JobRec, now = this.clock.now()): string {
    if (j.killed_at !== undefined && j.killed_at <= now) return j.killed_at < j.started_at ? 'error' : 'terminated';
    if (j.held && j.held.since <= now) return j.held.state;
    if (now < j.scheduled_at) return 'waiting';
    if (j.error) return 'error';
    if (now < j.started_at) return 'launching';
    if (now < j.started_at + j.walltime) return 'running';
    return 'terminated';
  }

  /** Put a job in place without the API (e.g. a duplicate name, another user's job). */
  seedJob(j: { site: string; name: string; user: string; cluster: string; nodes?: number; state?: 'waiting' | 'running' }): number {
    const now = this.clock.now();
    const cluster = this.clusters.find((c) => c.uid === j.cluster && c.site === j.site);
    if (!cluster) throw new Error(`no cluster ${j.cluster} at ${j.site}`);
    const busy = this.#busyNodes(now);
    const nodes = this.nodeFqdns(cluster).filter((n) => !busy.has(n)).slice(0, j.nodes ?? 1);
    const uid = this.#nextJob++;
    const start = j.state === 'waiting' ? now + 3600 : now - 60;
    this.jobs.push({
      uid,
      site: j.site,
      user: j.user,
      name: j.name,
      project: null,
      queue: 'default',
      types: [],
      command: 'sleep 31536000',
      resources: `{cluster='${j.cluster}'}/nodes=${nodes.length},walltime=02:00:00`,
      walltime: 7200,
      reservation: null,
      submitted_at: Math.floor(now) - 120,
      scheduled_at: Math.floor(start) - 10,
      started_at: Math.floor(start),
      nodes,
    });
    return uid;
  }

  #busyNodes(now: number): Set<string> {
    const s = new Set<string>();
    for (const j of this.jobs) if (['waiting', 'launching', 'running'].includes(this.jobState(j, now))) for (const n of j.nodes) s.add(n);
    return s;
  }

  #jobJson(j: JobRec, withResources: boolean): Record<string, unknown> {
    const now = this.clock.now();
    const state = this.jobState(j, now);
    const base = `${this.#o.prefix}/sites/${j.site}/jobs/${j.uid}`;
    const out: Record<string, unknown> = {
      uid: j.uid,
      user: j.user,
      user_uid: j.user,
      name: j.name,
      project: j.project,
      queue: j.queue,
      state,
      types: j.types,
      mode: 'PASSIVE',
      command: j.command,
      walltime: j.walltime,
      submitted_at: j.submitted_at,
      scheduled_at: state === 'waiting' || j.scheduled_at <= now ? j.scheduled_at : j.scheduled_at,
      started_at: ['running', 'terminated'].includes(state) || (state === 'error' && j.killed_at === undefined) ? j.started_at : null,
      stopped_at: state === 'terminated' ? Math.floor(j.killed_at ?? j.started_at + j.walltime) : null,
      message:
        state === 'error'
          ? (j.error ?? 'Job killed before it started')
          : state === 'waiting' || state === 'hold'
            ? 'R=1,W=' + j.walltime + ',J=B,N=' + (j.name ?? '') + (state === 'hold' ? ' (hold)' : '')
            : '',
      exit_code: state === 'terminated' || state === 'error' ? (j.error ? 1 : 0) : null,
      properties: "(deploy = 'NO') AND maintenance = 'NO'",
      directory: `/home/${j.user}`,
      events: [
        ...(j.held && j.held.since <= now ? [{ uid: j.uid * 10 + 1, created_at: Math.floor(j.held.since), type: j.held.state === 'hold' ? 'HOLD_WAITING_JOB' : 'SUSPEND_JOB', description: j.held.event }] : []),
        ...(j.error && state === 'error' ? [{ uid: j.uid * 10, created_at: j.scheduled_at, type: 'EXTERMINATE_JOB', description: j.error }] : []),
      ],
      links: [
        { rel: 'self', href: base, type: ITEM },
        { rel: 'parent', href: `${this.#o.prefix}/sites/${j.site}`, type: ITEM },
      ],
    };
    if (withResources) {
      const assigned = ['waiting', 'hold'].includes(state) ? [] : j.nodes;
      out.assigned_nodes = assigned;
      const cores = assigned.flatMap((n) => {
        const c = this.clusters.find((x) => n.startsWith(x.uid + '-'));
        return Array.from({ length: c?.cores ?? 1 }, (_, i) => `${n}/${i}`);
      });
      out.resources_by_type = { cores };
    }
    return out;
  }

  #deployStatus(d: DeployRec, now = this.clock.now()): string {
    if (d.canceled_at !== undefined && d.canceled_at <= now) return 'canceled';
    if (now < d.created_at + this.#o.deployWaitSeconds) return 'waiting';
    if (now < d.created_at + this.#o.deployWaitSeconds + this.#o.deployProcessSeconds) return 'processing';
    return 'terminated';
  }

  #deployJson(d: DeployRec): Record<string, unknown> {
    const now = this.clock.now();
    const status = this.#deployStatus(d, now);
    const out: Record<string, unknown> = {
      uid: d.uid,
      site_uid: d.site,
      user_uid: d.user,
      environment: d.environment,
      status,
      nodes: d.nodes,
      created_at: Math.floor(d.created_at),
      updated_at: Math.floor(Math.min(now, d.created_at + this.#o.deployWaitSeconds + this.#o.deployProcessSeconds)),
      links: [{ rel: 'self', href: `${this.#o.prefix}/sites/${d.site}/deployments/${d.uid}`, type: ITEM }],
    };
    if (status === 'terminated') {
      out.result = Object.fromEntries(
        d.nodes.map((n) => [n, d.ko.has(n) ? { macro: 'SetDeploymentEnv', micro: 'mount_deploy_part', state: 'KO' } : { macro: null, micro: null, state: 'OK' }]),
      );
      out.output = d.nodes.map((n) => `${n}: ${d.ko.has(n) ? 'KO' : 'OK'}`).join('\n');
    }
    return out;
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    this.requestLog.push(`${method} ${url.pathname}${url.search}`);
    try {
      if (url.pathname.startsWith('/__double/')) return this.#control(method, url, body, res);
      if (!url.pathname.startsWith(this.#o.prefix + '/')) throw new HttpError(404, `no such path ${url.pathname}`);
      const path = url.pathname.slice(this.#o.prefix.length);
      const route = routeKey(method, path);
      this.calls.set(route, (this.calls.get(route) ?? 0) + 1);
      const out = this.faults.outage;
      if (out && this.clock.now() < out.until) {
        if (out.mode === 'reset') {
          req.socket.destroy();
          return;
        }
        return this.#proxyError(res, 503);
      }
      const slow = this.faults.slow;
      if (slow && slow.count > 0 && (!slow.match || path.includes(slow.match))) {
        slow.count--;
        await new Promise((r) => setTimeout(r, slow.ms));
        if (res.destroyed || req.destroyed) return;
      }
      const f5 = this.faults.http5xx;
      if (f5 && f5.count > 0 && (!f5.match || path.includes(f5.match))) {
        f5.count--;
        return this.#proxyError(res, f5.status ?? 503);
      }
      const user = this.#authenticate(req);
      const lost = this.faults.lostAnswer;
      if (lost && lost.count > 0 && (!lost.method || lost.method === method) && (!lost.match || path.includes(lost.match))) {
        lost.count--;
        // The request is carried out; its answer never reaches the client.
        const sink = new ServerResponseSink();
        try {
          await this.#api(method, path, url.searchParams, body, user, sink as unknown as ServerResponse);
        } catch {
          /* a refusal is lost just the same */
        }
        return this.#proxyError(res, 502);
      }
      await this.#api(method, path, url.searchParams, body, user, res);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (res.headersSent) return;
      // g5k-api renders its errors as plain text (ApplicationController#render_error).
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Date: this.#httpDate() });
      res.end(message);
    }
  }

  /** What the front proxy says when the API behind it does not answer. */
  #proxyError(res: ServerResponse, status: number): void {
    const title = status === 502 ? '502 Bad Gateway' : status === 504 ? '504 Gateway Time-out' : '503 Service Unavailable';
    res.writeHead(status, { 'Content-Type': 'text/html', Date: this.#httpDate() });
    res.end(`<html><body><h1>${title}</h1>No server is available to handle this request.</body></html>`);
  }

  /** The double's clock as an HTTP `Date` header (what a client may use to learn the server's time). */
  #httpDate(): string {
    return new Date(Math.floor(this.clock.now()) * 1000).toUTCString();
  }

  #authenticate(req: IncomingMessage): string {
    const h = req.headers.authorization;
    if (!h) {
      if (this.#o.anonymousUser) return this.#o.anonymousUser;
      if (!this.#o.users) return 'anonymous';
      throw new HttpError(401, 'You must be authenticated to access this resource');
    }
    const m = /^Basic (.+)$/.exec(h);
    const [u, ...p] = m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(':') : [];
    const pass = p.join(':');
    if (!u || !this.#o.users || this.#o.users[u] !== pass) throw new HttpError(401, 'Invalid credentials');
    return u;
  }

  #send(res: ServerResponse, status: number, json: unknown, type: string, headers: Record<string, string> = {}): void {
    const text = json === undefined ? '' : JSON.stringify(json);
    res.writeHead(status, { 'Content-Type': type, Date: this.#httpDate(), ...headers });
    res.end(text);
  }

  #collection(items: unknown[], self: string, offset = 0, total = items.length): Record<string, unknown> {
    return { total, offset, items, links: [{ rel: 'self', href: this.#o.prefix + self, type: COLLECTION }] };
  }

  async #api(method: string, path: string, q: URLSearchParams, body: string, user: string, res: ServerResponse): Promise<void> {
    const now = this.clock.now();
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    const write = method !== 'GET';
    if (write && user === 'anonymous') throw new HttpError(403, 'You are not authorized to access this resource (anonymous)');
    if (seg[0] !== 'sites') throw new HttpError(404, `Cannot find resource ${path}`);
    if (seg.length === 1 && method === 'GET') {
      const sites = [...new Set(this.clusters.map((c) => c.site))].map((s) => ({ uid: s, name: s[0]!.toUpperCase() + s.slice(1), links: [{ rel: 'self', href: `${this.#o.prefix}/sites/${s}`, type: ITEM }] }));
      return this.#send(res, 200, this.#collection(sites, '/sites'), COLLECTION);
    }
    const site = seg[1]!;
    const siteClusters = this.clusters.filter((c) => c.site === site);
    if (!siteClusters.length) throw new HttpError(404, `Cannot find resource /sites/${site}`);
    if (seg.length === 2 && method === 'GET') return this.#send(res, 200, { uid: site, name: site, links: [] }, ITEM);
    const kind = seg[2];
    if (kind === 'clusters' && method === 'GET') return this.#reference(seg, siteClusters, res);
    if (kind === 'jobs') return this.#jobsApi(method, seg, q, body, user, site, siteClusters, now, res);
    if (kind === 'deployments') return this.#deploymentsApi(method, seg, q, body, user, site, now, res);
    if (kind === 'metrics' && method === 'GET') return this.#metrics(q, site, siteClusters, now, res);
    throw new HttpError(404, `Cannot find resource ${path}`);
  }

  #reference(seg: string[], siteClusters: DoubleCluster[], res: ServerResponse): void {
    const clusterJson = (c: DoubleCluster): Record<string, unknown> => ({
      uid: c.uid,
      exotic: c.exotic,
      queues: c.queues,
      metrics: [
        ...(c.wattmetre
          ? [{ name: 'wattmetre_power_watt', description: 'Power consumption of node reported by wattmetre, in watt', period: 1000, optional_period: 20, source: { protocol: 'wattmetre' } }]
          : []),
        { name: 'bmc_node_power_watt', description: 'Power consumption of node reported by BMC, in watt', period: 5000, source: { protocol: 'ipmisensor', id: '1' } },
      ],
      links: [{ rel: 'self', href: `${this.#o.prefix}/sites/${c.site}/clusters/${c.uid}`, type: ITEM }],
    });
    if (seg.length === 3) return this.#send(res, 200, this.#collection(siteClusters.map(clusterJson), `/sites/${seg[1]}/clusters`), COLLECTION);
    const c = siteClusters.find((x) => x.uid === seg[3]);
    if (!c) throw new HttpError(404, `Cannot find resource /sites/${seg[1]}/clusters/${seg[3]}`);
    if (seg.length === 4) return this.#send(res, 200, clusterJson(c), ITEM);
    const nodeJson = (fq: string): Record<string, unknown> => ({
      uid: fq.split('.')[0],
      cluster_uid: c.uid,
      architecture: { nb_cores: c.cores, nb_threads: c.cores * 2 },
      main_memory: { ram_size: 128 * 2 ** 30 },
      network_adapters: [{ device: 'eth0', name: 'eth0', interface: 'Ethernet', mountable: true, mounted: true, management: false }],
      sensors: { power: { available: true, via: c.wattmetre ? { pdu: [{ uid: `wattmetre1`, port: this.nodeIndex(fq) }] } : { bmc: true } } },
      links: [{ rel: 'self', href: `${this.#o.prefix}/sites/${c.site}/clusters/${c.uid}/nodes/${fq.split('.')[0]}`, type: ITEM }],
    });
    if (seg[4] === 'nodes') {
      if (seg.length === 5) return this.#send(res, 200, this.#collection(this.nodeFqdns(c).map(nodeJson), `/sites/${c.site}/clusters/${c.uid}/nodes`), COLLECTION);
      const fq = this.nodeFqdns(c).find((n) => n.split('.')[0] === seg[5]);
      if (!fq) throw new HttpError(404, `Cannot find resource /sites/${c.site}/clusters/${c.uid}/nodes/${seg[5]}`);
      return this.#send(res, 200, nodeJson(fq), ITEM);
    }
    if (seg[4] === 'status' && seg.length === 5) {
      const now = this.clock.now();
      const nodes: Record<string, unknown> = {};
      for (const fq of this.nodeFqdns(c)) {
        const held = this.jobs.filter((j) => j.nodes.includes(fq) && ['waiting', 'launching', 'running'].includes(this.jobState(j, now)));
        nodes[fq] = {
          hard: 'alive',
          soft: held.some((j) => this.jobState(j, now) === 'running') ? 'busy' : 'free',
          reservations: held.map((j) => ({ uid: j.uid, queue: j.queue, walltime: j.walltime, scheduled_at: j.scheduled_at, started_at: j.started_at })),
        };
      }
      return this.#send(res, 200, { nodes, links: [] }, ITEM);
    }
    throw new HttpError(404, 'Cannot find resource');
  }

  #jobsApi(method: string, seg: string[], q: URLSearchParams, body: string, user: string, site: string, siteClusters: DoubleCluster[], now: number, res: ServerResponse): void {
    if (seg.length === 3 && method === 'GET') {
      const states = q.get('state')?.split(',');
      let list = this.jobs.filter((j) => j.site === site).sort((a, b) => b.uid - a.uid);
      if (q.get('name')) list = list.filter((j) => j.name === q.get('name'));
      if (q.get('user')) list = list.filter((j) => j.user === q.get('user'));
      if (q.get('queue')) list = list.filter((j) => j.queue === q.get('queue'));
      if (states) list = list.filter((j) => states.includes(this.jobState(j, now)));
      const limit = Math.min(Number(q.get('limit') ?? 50), 500);
      const offset = Number(q.get('offset') ?? 0);
      const page = list.slice(offset, offset + limit).map((j) => this.#jobJson(j, q.get('resources') === 'yes'));
      return this.#send(res, 200, this.#collection(page, `/sites/${site}/jobs`, offset, list.length), COLLECTION);
    }
    if (seg.length === 3 && method === 'POST') {
      const b = parseJson(body) as Record<string, unknown>;
      if (typeof b.resources !== 'string' && b.resources !== undefined) throw new HttpError(400, 'The job you are trying to submit is not valid: `resources` should be a String.');
      if (!b.command && !b.reservation) throw new HttpError(400, 'The job you are trying to submit is not valid: you must give a command or a reservation date');
      const resources = String(b.resources ?? '/nodes=1');
      if (this.faults.couldRunAt !== undefined) {
        const at = this.faults.couldRunAt;
        delete this.faults.couldRunAt;
        throw oarsubRefusal(site, resources, [
          '[ADMISSION RULE] Modify resource description with type constraints',
          `Reservation not valid --> KO (This reservation could run at ${parisTime(at)})`,
        ]);
      }
      if (this.faults.reservationTooOld) {
        delete this.faults.reservationTooOld;
        throw oarsubRefusal(site, resources, ['[ADMISSION RULE] Modify resource description with type constraints', 'Reservation too old']);
      }
      const notEnough = (): HttpError =>
        oarsubRefusal(site, resources, ['[ADMISSION RULE] Modify resource description with type constraints', 'There are not enough resources for your request']);
      const { terms, walltime } = parseResources(resources);
      const busy = this.#busyNodes(now);
      const nodes: string[] = [];
      for (const t of terms) {
        if (t.nodes) {
          const bad = t.nodes.filter((n) => !siteClusters.some((c) => this.nodeFqdns(c).includes(n)));
          if (bad.length) throw notEnough();
          const taken = t.nodes.filter((n) => busy.has(n) || nodes.includes(n));
          if (taken.length) throw notEnough();
          nodes.push(...t.nodes);
          continue;
        }
        const c = siteClusters.find((x) => x.uid === t.cluster);
        if (t.cluster && !c) throw notEnough();
        const pool = (c ? this.nodeFqdns(c) : siteClusters.flatMap((x) => this.nodeFqdns(x))).filter((n) => !busy.has(n) && !nodes.includes(n));
        if (pool.length < t.count) throw notEnough();
        nodes.push(...pool.slice(0, t.count));
      }
      const types = Array.isArray(b.types) ? b.types.map(String) : [];
      const exoticWanted = nodes.some((n) => this.clusters.find((c) => n.startsWith(c.uid + '-'))?.exotic);
      if (exoticWanted && !types.includes('exotic'))
        throw oarsubRefusal(site, resources, ['# ADMISSION RULE: exotic resources need the "exotic" job type (add -t exotic)']);
      const wait = this.faults.jobWaitSeconds ?? this.#o.jobWaitSeconds;
      const uid = this.#nextJob++;
      const rec: JobRec = {
        uid,
        site,
        user,
        name: typeof b.name === 'string' ? b.name : null,
        project: typeof b.project === 'string' ? b.project : null,
        queue: typeof b.queue === 'string' ? b.queue : 'default',
        types,
        command: String(b.command ?? ''),
        resources: String(b.resources ?? ''),
        walltime,
        reservation: typeof b.reservation === 'string' ? b.reservation : null,
        submitted_at: Math.floor(now),
        scheduled_at: Math.floor(now + wait),
        started_at: Math.floor(now + wait + this.#o.jobLaunchSeconds),
        nodes,
      };
      if (this.faults.jobError) {
        rec.error = this.faults.jobError;
        delete this.faults.jobError;
      }
      if (this.faults.jobHold) {
        rec.held = { state: 'hold', since: now, event: this.faults.jobHold };
        delete this.faults.jobHold;
      }
      this.jobs.push(rec);
      const loc = `${this.#o.prefix}/sites/${site}/jobs/${uid}`;
      return this.#send(res, 201, this.#jobJson(rec, true), ITEM, { Location: loc });
    }
    const uid = Number(seg[3]);
    const j = this.jobs.find((x) => x.site === site && x.uid === uid);
    if (!j) throw new HttpError(404, `Cannot find job #${seg[3]} on the OAR server`);
    if (seg.length === 4 && method === 'GET') return this.#send(res, 200, this.#jobJson(j, true), ITEM);
    if (seg.length === 4 && method === 'DELETE') {
      if (j.user !== user) throw new HttpError(403, `You are not authorized to access job ${uid}`);
      const st = this.jobState(j, now);
      if (st === 'terminated' || st === 'error') throw oarError(site, `jobs/${uid}.json`, 400, 'Bad query', `[oardel] Cannot delete job ${uid}: This job was already killed`);
      j.killed_at = now;
      res.writeHead(202, { Location: `${this.#o.prefix}/sites/${site}/jobs/${uid}`, 'X-Oar-Info': `Deleting the job = ${uid} ...REGISTERED.`, Date: this.#httpDate() });
      res.end();
      return;
    }
    if (seg[4] === 'walltime' && seg.length === 5) {
      if (method === 'GET') return this.#send(res, 200, { walltime: j.walltime, possible: true, links: [] }, ITEM);
      if (method === 'POST') {
        if (j.user !== user) throw new HttpError(403, `You are not authorized to access job ${uid}`);
        const w = String((parseJson(body) as { walltime?: unknown }).walltime ?? '');
        const m = /^([+-])?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(w);
        if (!m) throw new HttpError(400, `Invalid walltime ${w}`);
        const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
        j.walltime = m[1] === '+' ? j.walltime + secs : m[1] === '-' ? j.walltime - secs : secs;
        return this.#send(res, 202, { status: 'Accepted', walltime: j.walltime, links: [] }, ITEM);
      }
    }
    throw new HttpError(404, 'Cannot find resource');
  }

  #deploymentsApi(method: string, seg: string[], q: URLSearchParams, body: string, user: string, site: string, now: number, res: ServerResponse): void {
    if (seg.length === 3 && method === 'POST') {
      const b = parseJson(body) as { nodes?: unknown; environment?: unknown; key?: unknown };
      if (!Array.isArray(b.nodes) || b.nodes.length === 0) throw new HttpError(400, 'Cannot launch deployment: nodes must be a non-empty list');
      if (typeof b.environment !== 'string' || !b.environment) throw new HttpError(400, 'Cannot launch deployment: environment is missing');
      const nodes = b.nodes.map(String);
      const mine = this.jobs.filter((j) => j.site === site && j.user === user && j.types.includes('deploy') && this.jobState(j, now) === 'running');
      const outside = nodes.filter((n) => !mine.some((j) => j.nodes.includes(n)));
      if (outside.length) throw new HttpError(400, `Cannot launch deployment: ${outside.join(', ')} not in a running deploy job of ${user}`);
      const ko = new Set<string>();
      const fails = this.faults.deployFailures ?? {};
      for (const n of nodes) {
        const k = fails[n] !== undefined ? n : n.split('.')[0]!;
        if ((fails[k] ?? 0) > 0) {
          fails[k]!--;
          ko.add(n);
        }
      }
      const d: DeployRec = { uid: `D-${randomUUID()}`, site, user, environment: b.environment, nodes, ko, created_at: now, key: String(b.key ?? '') };
      this.deployments.push(d);
      return this.#send(res, 201, this.#deployJson(d), ITEM, { Location: `${this.#o.prefix}/sites/${site}/deployments/${d.uid}` });
    }
    if (seg.length === 3 && method === 'GET') {
      // g5k-api: newest first (`reverse=true`: oldest first), filters `user` and `status`, paginated.
      let list = this.deployments.filter((d) => d.site === site).sort((a, b) => (q.get('reverse') === 'true' ? a.created_at - b.created_at : b.created_at - a.created_at));
      if (q.get('user')) list = list.filter((d) => d.user === q.get('user'));
      if (q.get('status')) list = list.filter((d) => this.#deployStatus(d, now) === q.get('status'));
      const limit = Math.min(Number(q.get('limit') ?? 50), 500);
      const offset = Number(q.get('offset') ?? 0);
      const page = list.slice(offset, offset + limit).map((d) => this.#deployJson(d));
      return this.#send(res, 200, this.#collection(page, `/sites/${site}/deployments`, offset, list.length), COLLECTION);
    }
    const d = this.deployments.find((x) => x.site === site && x.uid === seg[3]);
    if (!d) throw new HttpError(404, `Cannot find deployment ${seg[3]}`);
    if (seg.length === 4 && method === 'GET') return this.#send(res, 200, this.#deployJson(d), ITEM);
    if (seg.length === 4 && method === 'DELETE') {
      if (d.user !== user) throw new HttpError(403, `You are not authorized to access deployment ${d.uid}`);
      if (['waiting', 'processing'].includes(this.#deployStatus(d, now))) d.canceled_at = now;
      res.writeHead(202, { Location: `${this.#o.prefix}/sites/${site}/deployments/${d.uid}`, Date: this.#httpDate() });
      res.end();
      return;
    }
    throw new HttpError(404, 'Cannot find resource');
  }

  #metrics(q: URLSearchParams, site: string, siteClusters: DoubleCluster[], now: number, res: ServerResponse): void {
    let nodes = (q.get('nodes') ?? '').split(',').filter(Boolean);
    let start = parseTime(q.get('start_time'));
    let end = parseTime(q.get('end_time'));
    const jobId = q.get('job_id');
    if (jobId) {
      const j = this.jobs.find((x) => x.site === site && x.uid === Number(jobId));
      if (!j) throw new HttpError(404, `Cannot find job ${jobId}`);
      nodes = j.nodes.map((n) => n.split('.')[0]!);
      start = j.started_at;
      end = Math.min(now, j.killed_at ?? j.started_at + j.walltime);
    }
    if (!nodes.length || start === undefined) throw new HttpError(400, 'nodes (or job_id) and start_time are required');
    end = Math.min(end ?? now, now);
    const metrics = (q.get('metrics') ?? 'wattmetre_power_watt,bmc_node_power_watt').split(',') as DoubleMetric[];
    const out: { t: number; row: Record<string, unknown> }[] = [];
    for (const metric of metrics) {
      const period = (METRIC_PERIOD_MS[metric] ?? 0) / 1000;
      if (!period) continue;
      for (const short of nodes) {
        const c = siteClusters.find((x) => short.startsWith(x.uid + '-'));
        const idx = this.nodeIndex(short);
        if (!c || idx < 0) continue;
        if (metric === 'wattmetre_power_watt' && !c.wattmetre) continue;
        for (let t = Math.ceil(start / period) * period; t <= end; t += period) {
          out.push({ t, row: { timestamp: parisIso(t), device_id: short, metric_id: metric, value: round3(powerAt(idx, metric, t)), labels: metric === 'wattmetre_power_watt' ? { _device_orig: [`wattmetre1-port${idx}`] } : {} } });
          if (out.length > this.#o.maxMetricSamples) throw new HttpError(400, 'Too many metric values requested, please reduce the time range or the number of nodes');
        }
      }
    }
    out.sort((a, b) => a.t - b.t);
    this.#send(res, 200, out.map((x) => x.row), 'application/json');
  }

  #control(method: string, url: URL, body: string, res: ServerResponse): void {
    const p = url.pathname.slice('/__double/'.length);
    const b = body ? (parseJson(body) as Record<string, unknown>) : {};
    if (p === 'stats' && method === 'GET')
      return this.#send(res, 200, { now: this.clock.now(), speed: this.clock.speed, calls: Object.fromEntries(this.calls), total: this.count(), jobs: this.jobs.length, deployments: this.deployments.length }, 'application/json');
    if (p === 'advance' && method === 'POST') {
      this.clock.advance(Number(b.seconds ?? 0));
      return this.#send(res, 200, { now: this.clock.now() }, 'application/json');
    }
    if (p === 'speed' && method === 'POST') {
      this.clock.setSpeed(Number(b.speed ?? 1));
      return this.#send(res, 200, { now: this.clock.now(), speed: this.clock.speed }, 'application/json');
    }
    if (p === 'faults' && method === 'POST') {
      Object.assign(this.faults, b);
      return this.#send(res, 200, this.faults, 'application/json');
    }
    if (p === 'jobs' && method === 'POST') {
      const uid = this.seedJob(b as Parameters<G5kDouble['seedJob']>[0]);
      return this.#send(res, 201, { uid }, 'application/json');
    }
    if (p === 'energy' && method === 'GET') {
      const node = url.searchParams.get('node') ?? '';
      const metric = (url.searchParams.get('metric') ?? 'wattmetre_power_watt') as DoubleMetric;
      const a = Number(url.searchParams.get('start'));
      const z = Number(url.searchParams.get('end'));
      return this.#send(res, 200, { node, metric, joules: this.energy(node, metric, a, z) }, 'application/json');
    }
    throw new HttpError(404, `no control endpoint ${p}`);
  }
}

/** Where the answer of a request whose answer is lost goes. */
class ServerResponseSink {
  headersSent = false;
  destroyed = false;
  writeHead(): this {
    this.headersSent = true;
    return this;
  }
  end(): void {}
}

function routeKey(method: string, path: string): string {
  const seg = path.split('/').filter(Boolean);
  const names = ['sites', '{site}', null, '{id}', null, '{node}'];
  const parts = seg.map((s, i) => {
    if (i === 1) return '{site}';
    if (i === 3) return seg[2] === 'clusters' ? '{cluster}' : seg[2] === 'deployments' ? '{uid}' : '{id}';
    if (i === 5) return '{node}';
    return names[i] ?? s;
  });
  return `${method} /${parts.join('/')}`.replace(/\/$/, '');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new HttpError(400, 'Malformed JSON body');
  }
}

/** OAR resources: `{cluster='x'}/nodes=2+{network_address in ('a','b')}/nodes=2,walltime=01:00:00`. */
export function parseResources(s: string): { terms: { cluster?: string; nodes?: string[]; count: number }[]; walltime: number } {
  let walltime = 3600;
  const wm = /,walltime=(\d+)(?::(\d+))?(?::(\d+))?\s*$/.exec(s);
  if (wm) {
    walltime = Number(wm[1]) * 3600 + Number(wm[2] ?? 0) * 60 + Number(wm[3] ?? 0);
    s = s.slice(0, wm.index);
  }
  const terms = s.split('+').map((t) => {
    const m = /^\s*(?:\{(.*)\})?\s*\/nodes=(\d+)\s*$/.exec(t);
    if (!m) throw new HttpError(400, `Unable to submit the job: cannot parse resource request "${t}" (the double knows {cluster='x'}/nodes=N and {network_address in (...)}/nodes=N)`);
    const filter = m[1] ?? '';
    const count = Number(m[2]);
    const cm = /^cluster\s*=\s*'([^']+)'$/.exec(filter.trim());
    if (cm) return { cluster: cm[1]!, count };
    const nm = /^network_address\s+in\s*\((.*)\)$/.exec(filter.trim());
    if (nm) {
      const nodes = [...nm[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
      if (nodes.length !== count) throw new HttpError(400, `Unable to submit the job: ${nodes.length} nodes listed but nodes=${count}`);
      return { nodes, count };
    }
    if (!filter.trim()) return { count };
    throw new HttpError(400, `Unable to submit the job: the double does not understand the property filter {${filter}}`);
  });
  return { terms, walltime };
}

/** Kwollect reads a time without offset as Europe/Paris local time. */
function parseTime(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  if (/[zZ]|[+-]\d{2}:?\d{2}$/.test(v)) {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t / 1000 : undefined;
  }
  const asUtc = Date.parse(`${v.replace(' ', 'T')}Z`) / 1000;
  if (!Number.isFinite(asUtc)) return undefined;
  const first = asUtc - parisOffset(asUtc - 3600);
  return asUtc - parisOffset(first);
}

const PARIS = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', timeZoneName: 'longOffset' });

/** Seconds Europe/Paris is ahead of UTC at epoch `t` (3600 in winter, 7200 in summer). */
function parisOffset(t: number): number {
  const name = PARIS.formatToParts(new Date(t * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT+01:00';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
}

/** Kwollect style: Paris local time with its offset of the day, and microseconds. */
function parisIso(t: number): string {
  const off = parisOffset(t);
  const d = new Date(Math.floor(t) * 1000 + off * 1000);
  const micro = String(Math.round((t - Math.floor(t)) * 1e6)).padStart(6, '0');
  const hh = String(Math.floor(off / 3600)).padStart(2, '0');
  const mm = String(Math.floor((off % 3600) / 60)).padStart(2, '0');
  return d.toISOString().replace(/\.\d{3}Z$/, `.${micro}+${hh}:${mm}`);
}

/** OAR's dates: site local time (Europe/Paris), `YYYY-MM-DD hh:mm:ss`. */
function parisTime(t: number): string {
  return new Date(t * 1000 + parisOffset(t) * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
