import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterMetadata } from '@platformatic/kafka';
import { RecordBatchEncoder } from '../../../src/loadgen/native/batch.js';
import { BatchSender } from '../../../src/loadgen/native/produce.js';

function metadata(port: number): ClusterMetadata {
  return {
    id: 'c',
    controllerId: 1,
    lastUpdate: 0,
    brokers: new Map([[1, { nodeId: 1, host: '127.0.0.1', port }]]),
    topics: new Map([['t', { id: 'x', partitionsCount: 1, partitions: [{ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1] }] }]]),
  } as unknown as ClusterMetadata;
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

function listen(onConn: (s: import('node:net').Socket) => void): Promise<number> {
  const srv = createServer(onConn);
  servers.push(srv);
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
}

function sender(port: number, asked: boolean[]): BatchSender {
  return new BatchSender({
    clientId: 'unit',
    topic: 't',
    acks: 1,
    requestTimeoutMs: 5000,
    connectTimeoutMs: 5000,
    maxInflight: 5,
    retries: 2,
    retryDelayMs: 1,
    metadata: (force) => (asked.push(force), Promise.resolve(metadata(port))),
  });
}

describe('the batch sender on real sockets', () => {
  it('a leader that refuses the connection is an error, not a crash', async () => {
    const port = await listen(() => undefined);
    servers.pop()!.close();
    await new Promise((r) => setTimeout(r, 20));
    const s = sender(port, []);
    await expect(s.connect(metadata(port))).rejects.toThrow();
    await s.close();
  });

  it('a connection reset at every request fails the send after its retries, each after fresh metadata', async () => {
    let accepted = 0;
    let requests = 0;
    const port = await listen((sock) => {
      accepted++;
      sock.once('data', () => (requests++, sock.resetAndDestroy())); // a reset: the client's socket errors
    });
    const asked: boolean[] = [];
    const s = sender(port, asked);
    await s.connect(metadata(port));
    const err = await new Promise<Error | null>((r) => s.send([new RecordBatchEncoder(Buffer.alloc(10)).encode(0, 3, Date.now())], r));
    expect(err).toBeInstanceOf(Error);
    expect(requests).toBe(3); // the first try and 2 retries
    expect(accepted).toBe(3); // each retry on a new connection
    expect(asked).toEqual([true, true]);
    await s.close();
  });
});
