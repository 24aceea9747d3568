/**
 * The native generator's request shape (src/loadgen/native/driver.ts): a batch per partition of at
 * most batchBytes, one batch per partition per send, a send within the Java producer's
 * max.request.size default, never less than one message.
 */
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, sendShape, topicUsable } from '../../../src/loadgen/native/driver.js';

describe('sendShape', () => {
  it('carries one batch per partition, like the Java producer', () => {
    expect(sendShape(1024, 65_536, 3)).toEqual({ perBatch: 64, perSend: 192 });
    expect(sendShape(1024, 65_536, 1)).toEqual({ perBatch: 64, perSend: 64 });
  });
  it('stays within max.request.size with many partitions', () => {
    expect(sendShape(1024, 65_536, 100)).toEqual({ perBatch: 64, perSend: MAX_REQUEST_BYTES / 1024 });
  });
  it('never goes below one batch, nor one message', () => {
    expect(sendShape(1024, 4 * MAX_REQUEST_BYTES, 3)).toEqual({ perBatch: 4096, perSend: 4096 });
    expect(sendShape(1024, 0, 3)).toEqual({ perBatch: 1, perSend: 3 });
    expect(sendShape(2 * MAX_REQUEST_BYTES, 65_536, 3)).toEqual({ perBatch: 1, perSend: 1 });
  });
});

describe('topicUsable (the generator waits for a topic being created)', () => {
  const p = (leader: number) => ({ leader, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] });
  it('needs every partition listed with a leader', () => {
    expect(topicUsable({ partitionsCount: 3, partitions: [p(1), p(1), p(2)] })).toBe(true);
    expect(topicUsable({ partitionsCount: 3, partitions: [p(1), p(-1), p(2)] })).toBe(false);
    expect(topicUsable({ partitionsCount: 3, partitions: [p(1), p(1)] })).toBe(false);
    expect(topicUsable({ partitionsCount: 0, partitions: [] })).toBe(false);
  });
});
