/**
 * The native generator's send path for unkeyed messages: pre-encoded record batches (batch.ts)
 * written as Produce v11 requests on the client's own `Connection`s, one per partition leader,
 * without the Producer's per-message work. A send's batches go in one request per leader (as the
 * Producer groups them); the send completes when every request has its response. A failed request
 * is retried like the Producer retries (`retries` times, `retryDelayMs` apart) after fresh metadata,
 * on a new connection when the old one is gone.
 */
import { Connection, produceV11, type ClusterMetadata } from '@platformatic/kafka';
import { produceRequestV11, type EncodedBatch } from './batch.js';

export interface BatchSenderOptions {
  clientId: string;
  topic: string;
  /** Kafka's acks value: 0, 1 or −1 (all). */
  acks: number;
  /** The broker's wait for acks (the request's timeout_ms), and the client's request timeout. */
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  /** Requests in flight on each connection. */
  maxInflight: number;
  retries: number;
  retryDelayMs: number;
  /** The cluster's metadata (forced: asked afresh). */
  metadata: (force: boolean) => Promise<ClusterMetadata>;
}

export class BatchSender {
  private readonly conns = new Map<number, Connection>();
  private leaders: number[] = [];
  private md: ClusterMetadata | undefined;
  private closed = false;

  constructor(private readonly o: BatchSenderOptions) {}

  /** Connects to every partition leader of the topic in `md`. */
  async connect(md: ClusterMetadata): Promise<void> {
    this.use(md);
    await Promise.all([...new Set(this.leaders)].map((id) => this.connection(id)));
  }

  private use(md: ClusterMetadata): void {
    const t = md.topics.get(this.o.topic);
    if (!t) throw new Error(`topic ${this.o.topic} is not in the metadata`);
    this.md = md;
    this.leaders = Array.from({ length: t.partitionsCount }, (_, p) => t.partitions[p]?.leader ?? -1);
  }

  private async connection(id: number): Promise<Connection> {
    const c = this.conns.get(id);
    if (c && c.isConnected()) return c;
    if (c) {
      this.conns.delete(id);
      c.close(() => undefined);
    }
    const b = this.md?.brokers.get(id);
    if (!b) throw new Error(`broker ${id} is not in the metadata`);
    const conn = new Connection(this.o.clientId, {
      connectTimeout: this.o.connectTimeoutMs,
      requestTimeout: this.o.requestTimeoutMs,
      maxInflights: this.o.maxInflight,
    });
    this.conns.set(id, conn);
    // A connection emits its errors (connect or socket failures) as events besides failing its
    // requests: without a listener Node would throw them. A failed connection is dropped; the next
    // retry opens a new one.
    conn.on('error', () => {
      if (this.conns.get(id) === conn) this.conns.delete(id);
    });
    await conn.connect(b.host, b.port);
    return conn;
  }

  /** Sends the batches (one per partition at most); `done` once every leader answered. */
  send(batches: readonly EncodedBatch[], done: (err: Error | null) => void): void {
    const byLeader = new Map<number, EncodedBatch[]>();
    for (const b of batches) {
      const l = this.leaders[b.partition] ?? -1;
      const g = byLeader.get(l);
      if (g) g.push(b);
      else byLeader.set(l, [b]);
    }
    let left = byLeader.size;
    let first: Error | null = null;
    const one = (err: Error | null): void => {
      if (err && !first) first = err;
      if (--left === 0) done(first);
    };
    for (const [leader, group] of byLeader) this.request(leader, group, 0, one);
  }

  private request(leader: number, group: EncodedBatch[], attempt: number, done: (err: Error | null) => void): void {
    const conn = this.conns.get(leader);
    const retry = (err: Error): void => {
      if (this.closed || attempt >= this.o.retries) return done(err);
      setTimeout(() => {
        this.o
          .metadata(true)
          .then((md) => {
            this.use(md);
            const l = this.leaders[group[0]!.partition] ?? -1;
            return this.connection(l).then(() => this.request(l, group, attempt + 1, done));
          })
          .catch(() => this.request(leader, group, attempt + 1, done));
      }, this.o.retryDelayMs);
    };
    if (!conn || !conn.isConnected()) {
      retry(new Error(leader < 0 ? 'no leader for the partition' : `no connection to broker ${leader}`));
      return;
    }
    conn.send(
      produceV11.api.key,
      produceV11.api.version,
      () => produceRequestV11(this.o.acks, this.o.requestTimeoutMs, this.o.topic, group),
      produceV11.parseResponse,
      true,
      true,
      (err) => (err ? retry(err) : done(null)),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const cs = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(cs.map((c) => new Promise<void>((r) => c.close(() => r()))));
  }
}
