import { InterruptedError, PlatformError } from '../../core/errors.js';
import type { Credentials } from './credentials.js';
import type {
  Cluster,
  ClusterStatus,
  Collection,
  Deployment,
  DeploymentSubmission,
  Job,
  JobState,
  JobSubmission,
  MetricSample,
  Node,
  Site,
} from './types.js';

export const DEFAULT_API_URL = 'https://api.grid5000.fr/stable';
const ITEM = 'application/vnd.grid5000.item+json';
const COLLECTION = 'application/vnd.grid5000.collection+json';

/** An answer of the API that is not a success; `status` 0 means no answer (timeout, refused). */
export class G5kApiError extends PlatformError {
  readonly status: number;
  /** The server's message (OAR's or Kadeploy's text), credentials scrubbed. */
  readonly serverMessage: string;
  constructor(code: string, message: string, status: number, serverMessage: string, cause?: unknown) {
    super(code, message, cause === undefined ? {} : { cause });
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

export interface RetryPolicy {
  /** Attempts for idempotent requests (GET, DELETE) on 5xx, timeouts and refused connections. */
  attempts: number;
  /** First wait between attempts, ms; doubled each time up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ApiOptions {
  baseUrl?: string;
  credentials?: Credentials;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** One line per retry (never with credentials). */
  log?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Ctrl-C: stops a request in flight and the waits between retries (InterruptedError). */
  signal?: AbortSignal;
  /** The client's clock (epoch s) that `clockOffset` is measured against; default the system clock. */
  now?: () => number;
}

export interface JobQuery {
  name?: string;
  state?: JobState[];
  user?: string;
  queue?: string;
  resources?: boolean;
  limit?: number;
}

export interface DeploymentQuery {
  user?: string;
  status?: Deployment['status'];
  limit?: number;
}

export interface MetricsQuery {
  nodes: string[];
  metrics: string[];
  /** Epoch seconds (floats allowed). */
  start: number;
  end: number;
  summary?: boolean;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The Grid'5000 REST API client: jobs (OAR), deployments (Kadeploy), reference API, Kwollect.
 * Credentials go only into the Authorization header; no URL, message or log line contains them.
 */
export class G5kApi {
  readonly baseUrl: string;
  readonly username: string | undefined;
  readonly #credentials: Credentials | undefined;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #log: (line: string) => void;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #signal: AbortSignal | undefined;
  readonly #now: () => number;
  /** Requests sent (every attempt), for the bench and for tests. */
  calls = 0;
  /**
   * The server's clock minus the client's (s), from the `Date` header of the last answer: OAR's
   * times (scheduled_at, ...) are the server's, so waiting compares them with now + clockOffset.
   */
  clockOffset: number | undefined;

  constructor(opts: ApiOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
    this.#credentials = opts.credentials;
    this.username = opts.credentials?.username;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#retry = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000, ...opts.retry };
    this.#log = opts.log ?? (() => {});
    this.#sleep = opts.sleep ?? realSleep;
    this.#signal = opts.signal;
    this.#now = opts.now ?? (() => Date.now() / 1000);
  }

  /** The server's time now, as far as its last `Date` header tells (the client's clock before any answer). */
  serverNow(): number {
    return this.#now() + (this.clockOffset ?? 0);
  }

  // ---- jobs -----------------------------------------------------------------------------------

  async submitJob(site: string, job: JobSubmission): Promise<Job> {
    return (await this.request<Job>('POST', `/sites/${enc(site)}/jobs`, { body: job, idempotent: false })).json;
  }

  async listJobs(site: string, q: JobQuery = {}): Promise<Job[]> {
    const params = new URLSearchParams();
    if (q.name) params.set('name', q.name);
    if (q.state?.length) params.set('state', q.state.join(','));
    if (q.user) params.set('user', q.user);
    if (q.queue) params.set('queue', q.queue);
    if (q.resources) params.set('resources', 'yes');
    params.set('limit', String(q.limit ?? 500));
    const r = await this.request<Collection<Job>>('GET', `/sites/${enc(site)}/jobs?${params}`);
    return r.json.items;
  }

  async getJob(site: string, uid: number): Promise<Job> {
    return (await this.request<Job>('GET', `/sites/${enc(site)}/jobs/${uid}`)).json;
  }

  /** Kill a job. Resolves to `already` when OAR says it was already killed or finished. */
  async deleteJob(site: string, uid: number): Promise<'deleted' | 'already'> {
    try {
      await this.request('DELETE', `/sites/${enc(site)}/jobs/${uid}`, { expectJson: false, uninterruptible: true });
      return 'deleted';
    } catch (e) {
      if (e instanceof G5kApiError && (/already (been )?killed|already terminated|is not running/i.test(e.serverMessage) || e.status === 404)) {
        return 'already';
      }
      throw e;
    }
  }

  /** Ask OAR to change the walltime, e.g. `+1:00` or `03:00:00`. */
  async changeWalltime(site: string, uid: number, walltime: string): Promise<unknown> {
    return (await this.request('POST', `/sites/${enc(site)}/jobs/${uid}/walltime`, { body: { walltime }, idempotent: false })).json;
  }

  // ---- deployments ----------------------------------------------------------------------------

  /** Never repeated by the client: after no answer or a 5xx, look at `listDeployments` before trying again. */
  async submitDeployment(site: string, d: DeploymentSubmission): Promise<Deployment> {
    return (await this.request<Deployment>('POST', `/sites/${enc(site)}/deployments`, { body: d, idempotent: false })).json;
  }

  /** Deployments at a site, newest first. */
  async listDeployments(site: string, q: DeploymentQuery = {}): Promise<Deployment[]> {
    const params = new URLSearchParams();
    if (q.user) params.set('user', q.user);
    if (q.status) params.set('status', q.status);
    params.set('limit', String(q.limit ?? 50));
    return (await this.request<Collection<Deployment>>('GET', `/sites/${enc(site)}/deployments?${params}`)).json.items;
  }

  async getDeployment(site: string, uid: string): Promise<Deployment> {
    return (await this.request<Deployment>('GET', `/sites/${enc(site)}/deployments/${enc(uid)}`)).json;
  }

  async deleteDeployment(site: string, uid: string): Promise<void> {
    await this.request('DELETE', `/sites/${enc(site)}/deployments/${enc(uid)}`, { expectJson: false, uninterruptible: true });
  }

  // ---- reference API --------------------------------------------------------------------------

  async sites(): Promise<Site[]> {
    return (await this.request<Collection<Site>>('GET', '/sites')).json.items;
  }

  async clusters(site: string): Promise<Cluster[]> {
    return (await this.request<Collection<Cluster>>('GET', `/sites/${enc(site)}/clusters`)).json.items;
  }

  async cluster(site: string, cluster: string): Promise<Cluster> {
    return (await this.request<Cluster>('GET', `/sites/${enc(site)}/clusters/${enc(cluster)}`)).json;
  }

  async nodes(site: string, cluster: string): Promise<Node[]> {
    return (await this.request<Collection<Node>>('GET', `/sites/${enc(site)}/clusters/${enc(cluster)}/nodes`)).json.items;
  }

  async node(site: string, cluster: string, node: string): Promise<Node> {
    return (await this.request<Node>('GET', `/sites/${enc(site)}/clusters/${enc(cluster)}/nodes/${enc(node)}`)).json;
  }

  async clusterStatus(site: string, cluster: string): Promise<ClusterStatus> {
    return (await this.request<ClusterStatus>('GET', `/sites/${enc(site)}/clusters/${enc(cluster)}/status`)).json;
  }

  // ---- Kwollect -------------------------------------------------------------------------------

  async metrics(site: string, q: MetricsQuery): Promise<MetricSample[]> {
    const params = new URLSearchParams({
      nodes: q.nodes.join(','),
      metrics: q.metrics.join(','),
      start_time: String(q.start),
      end_time: String(q.end),
    });
    if (q.summary !== undefined) params.set('summary', String(q.summary));
    return (await this.request<MetricSample[]>('GET', `/sites/${enc(site)}/metrics?${params}`)).json;
  }

  // ---- transport ------------------------------------------------------------------------------

  /**
   * One API call. Idempotent calls are retried with exponential backoff on 5xx, timeouts and
   * connection errors; non-idempotent ones (job submission) never are, unless `retry5xx` (a 5xx
   * answer means the server did not act). 401/403 become errors that say what to check.
   */
  async request<T = unknown>(
    method: 'GET' | 'POST' | 'DELETE' | 'PUT',
    path: string,
    opts: { body?: unknown; idempotent?: boolean; retry5xx?: boolean; expectJson?: boolean; uninterruptible?: boolean } = {},
  ): Promise<{ status: number; json: T; headers: Headers }> {
    const idempotent = opts.idempotent ?? (method === 'GET' || method === 'DELETE' || method === 'PUT');
    const url = this.baseUrl + path;
    const what = `${method} ${path.split('?')[0]}`;
    const headers: Record<string, string> = { Accept: `${ITEM}, ${COLLECTION}, application/json` };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.#credentials) {
      const token = Buffer.from(`${this.#credentials.username}:${this.#credentials.password.reveal()}`).toString('base64');
      headers.Authorization = `Basic ${token}`;
    }
    let delay = this.#retry.baseDelayMs;
    for (let attempt = 1; ; attempt++) {
      this.calls++;
      const signals = [AbortSignal.timeout(this.#timeoutMs)];
      // Ctrl-C stops reads at once; a submission in flight is let finish (its id gets recorded), and
      // so is giving something back (the clean-up Ctrl-C asks for).
      const interruptible = idempotent && !opts.uninterruptible;
      if (this.#signal && interruptible) signals.push(this.#signal);
      let res: Response | undefined;
      let transient: string | undefined;
      let cause: unknown;
      try {
        res = await fetch(url, {
          method,
          headers,
          signal: AbortSignal.any(signals),
          ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
        });
      } catch (e) {
        if (interruptible && this.#signal?.aborted) throw new InterruptedError(`interrupted during ${what}`);
        cause = scrubCause(e);
        const name = (e as { name?: string }).name;
        transient = name === 'TimeoutError' ? `no answer within ${this.#timeoutMs / 1000} s` : `connection failed (${errCode(e)})`;
      }
      if (res) {
        this.#noteDate(res.headers.get('date'));
        if (res.ok) {
          const text = await res.text();
          let json: unknown = undefined;
          if (opts.expectJson !== false && text.trim() !== '') {
            try {
              json = JSON.parse(text);
            } catch {
              throw new G5kApiError('g5k.api.bad_answer', `Grid'5000 API: ${what} answered ${res.status} with non-JSON content`, res.status, '');
            }
          }
          return { status: res.status, json: json as T, headers: res.headers };
        }
        const serverMessage = this.scrub(await readMessage(res));
        if (res.status >= 500 && (idempotent || opts.retry5xx)) {
          transient = `${res.status} ${serverMessage}`.trim();
        } else {
          throw this.httpError(what, res.status, serverMessage);
        }
      }
      if (!idempotent && !(opts.retry5xx && res)) {
        throw new G5kApiError('g5k.api.unreachable', `Grid'5000 API: ${what}: ${transient}`, 0, '', cause);
      }
      if (attempt >= this.#retry.attempts) {
        const status = res?.status ?? 0;
        throw new G5kApiError(
          status ? 'g5k.api.server_error' : 'g5k.api.unreachable',
          `Grid'5000 API: ${what} failed ${attempt} times; last: ${transient}`,
          status,
          res ? (transient ?? '') : '',
          cause,
        );
      }
      this.#log(`Grid'5000 API: ${what}: ${transient}; retry ${attempt}/${this.#retry.attempts - 1} in ${(delay / 1000).toFixed(1)} s`);
      if (interruptible) await this.#pause(delay, what);
      else await this.#sleep(delay);
      delay = Math.min(delay * 2, this.#retry.maxDelayMs);
    }
  }

  /** The wait between two attempts; Ctrl-C ends it at once. */
  async #pause(ms: number, what: string): Promise<void> {
    const signal = this.#signal;
    if (!signal) return this.#sleep(ms);
    if (signal.aborted) throw new InterruptedError(`interrupted during ${what}`);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new InterruptedError(`interrupted during ${what}`));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.#sleep(ms), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  #noteDate(header: string | null): void {
    const t = header ? Date.parse(header) : Number.NaN;
    if (Number.isFinite(t)) this.clockOffset = t / 1000 - this.#now();
  }

  private httpError(what: string, status: number, serverMessage: string): G5kApiError {
    const who = this.username ? `user ${this.username}` : 'no credentials';
    if (status === 401)
      return new G5kApiError(
        'g5k.api.unauthorized',
        `Grid'5000 API refused the credentials (401, ${who}) on ${what}: check username/password in ~/.python-grid5000.yaml or GRID5000_USERNAME/GRID5000_PASSWORD`,
        status,
        serverMessage,
      );
    if (status === 403)
      return new G5kApiError(
        'g5k.api.forbidden',
        `Grid'5000 API: ${what} is forbidden (403, ${who})${serverMessage ? `: ${serverMessage}` : ''}. Anonymous writes and other users' jobs are refused; check your credentials and the job owner`,
        status,
        serverMessage,
      );
    if (status === 404) return new G5kApiError('g5k.api.not_found', `Grid'5000 API: ${what}: not found (404)${serverMessage ? `: ${serverMessage}` : ''}`, status, serverMessage);
    return new G5kApiError('g5k.api.rejected', `Grid'5000 API: ${what} answered ${status}${serverMessage ? `: ${serverMessage}` : ''}`, status, serverMessage);
  }

  /** Remove the password from any text that came back from the server (echoes, proxies). */
  scrub(text: string): string {
    const pw = this.#credentials?.password.reveal();
    return pw ? text.split(pw).join('***') : text;
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function errCode(e: unknown): string {
  const c = (e as { cause?: { code?: string } }).cause?.code;
  return c ?? (e as { name?: string }).name ?? 'error';
}

/** Causes kept on errors must not hold the request (its headers hold the Authorization). */
function scrubCause(e: unknown): unknown {
  return { name: (e as { name?: string }).name, code: errCode(e) };
}

/** The human text of an error answer (see `errorText`). */
async function readMessage(res: Response): Promise<string> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    return '';
  }
  return errorText(text);
}

/**
 * The words that matter in an error answer. g5k-api renders errors as plain text; when the refusal
 * comes from OAR it is `Request to <internal OAR API URL> failed with status 400: <OAR's JSON error>`,
 * whose message is oarsub's output (`Oarsub command exited with status 22: ...\nOAR_JOB_ID=-5\n...
 * Cmd:\noarsub ...`): keep OAR's own lines. JSON `{message}` answers give their message; a proxy's
 * HTML page its text.
 */
export function errorText(raw: string): string {
  let text = raw.trim();
  const wrapped = /^Request to \S+ failed with status \d{3}: ([\s\S]*)$/.exec(text);
  if (wrapped) text = wrapped[1]!.trim();
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j.message === 'string') text = j.message;
  } catch {
    /* not JSON */
  }
  if (/^Oarsub command exited with status \d+: /.test(text)) {
    const body = text.replace(/^Oarsub command exited with status \d+: /, '').split(/\nCmd:\n/)[0]!;
    const lines = body
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^OAR_JOB_ID=/.test(l) && !/^Oarsub failed: please verify your request/.test(l) && !/^\[ADMISSION RULE\] Modify resource description/.test(l));
    text = lines.join('; ');
  }
  return text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 1000);
}
