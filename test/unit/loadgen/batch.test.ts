import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Reader, createRecordsBatch, jsCRC32C, produceV11, readRecordsBatch, type MessageRecord } from '@platformatic/kafka';
import { RecordBatchEncoder, crc32cOf, produceRequestV11 } from '../../../src/loadgen/native/batch.js';

/** What the Producer hands the client's encoder for one unkeyed message (its #send's shape). */
function producerMessages(value: Buffer, partition: number, n: number, ts: bigint): MessageRecord[] {
  return Array.from({ length: n }, () => ({ key: undefined, value, headers: new Map(), topic: 't', partition, timestamp: ts }) as unknown as MessageRecord);
}

describe('pre-encoded record batches', () => {
  const value = randomBytes(1024);
  const enc = new RecordBatchEncoder(value);

  it.each([1, 3, 64])('a batch of %i messages has the bytes of the client encoder', (n) => {
    const ts = 1_764_700_000_123;
    const b = enc.encode(2, n, ts + 0.7);
    const ours = Buffer.concat([b.head, b.records]);
    const theirs = createRecordsBatch(producerMessages(value, 2, n, BigInt(ts))).buffer;
    expect(ours.equals(theirs)).toBe(true);
    // And it reads back: n records of the payload, the timestamp, a CRC the JS CRC32C agrees with.
    const read = readRecordsBatch(Reader.from(ours));
    expect(read.records).toHaveLength(n);
    expect(read.records[n - 1]!.offsetDelta).toBe(n - 1);
    expect(Buffer.compare(read.records[0]!.value, value)).toBe(0);
    expect(read.firstTimestamp).toBe(BigInt(ts));
    expect(read.crc).toBe(jsCRC32C(ours.subarray(21)));
  });

  it('reuses the records of a batch size and writes a fresh header each time', () => {
    const a = enc.encode(0, 64, 1000);
    const b = enc.encode(1, 64, 2000);
    expect(a.records).toBe(b.records);
    expect(a.head.equals(b.head)).toBe(false);
  });

  it('continues a CRC across two buffers like one', () => {
    const x = randomBytes(77);
    const y = randomBytes(5000);
    expect(crc32cOf(x, y)).toBe(jsCRC32C(Buffer.concat([x, y])));
  });

  it('a produce request has the bytes of produce v11 for the same messages', () => {
    const ts = 1_764_700_000_000;
    // (The client lists partitions in ascending order; a broker takes them in any order.)
    const batches = [enc.encode(0, 2, ts), enc.encode(1, 5, ts), enc.encode(2, 5, ts)];
    const ours = produceRequestV11(1, 30_000, 'topic-x', batches).buffer;
    const msgs = [...producerMessages(value, 0, 2, BigInt(ts)), ...producerMessages(value, 1, 5, BigInt(ts)), ...producerMessages(value, 2, 5, BigInt(ts))];
    for (const m of msgs) (m as { topic: string }).topic = 'topic-x';
    const theirs = produceV11.createRequest(1, 30_000, msgs).buffer;
    expect(ours.equals(theirs)).toBe(true);
    expect(produceRequestV11(0, 1, 'topic-x', batches).context).toMatchObject({ noResponse: true });
  });
});
