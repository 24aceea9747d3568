/**
 * Record batches and Produce requests for the native generator's unkeyed messages, encoded once
 * and reused. Every unkeyed message is the same payload without key or headers, so the records of
 * a batch of n messages (offset deltas 0..n-1, timestamp delta 0) are the same bytes every time:
 * they are built once per batch size with the client's own record encoder; a batch only gets its
 * 61-byte header (timestamps, count, CRC32C) per send. The bytes are exactly those the client's
 * Producer sends for the same messages (`createRecordsBatch`, produce v11's `createRequest`; the
 * unit tests compare them), without its per-message objects, maps and copies.
 */
import { createRequire } from 'node:module';
import { Writer, createRecord, crc32c as clientCrc32c, type MessageRecord } from '@platformatic/kafka';

/** Bytes of a v2 record batch before its records: base offset … record count. */
export const BATCH_HEADER_BYTES = 61;
/** The CRC covers the batch from its attributes (this offset) to its end. */
const CRC_FROM = 21;

type Crc32c = (data: Uint8Array, initial?: number) => number;

/** The native CRC32C the client itself uses when present, which can continue a CRC; else undefined. */
function loadNativeCrc(): Crc32c | undefined {
  try {
    const req = createRequire(createRequire(import.meta.url).resolve('@platformatic/kafka'));
    return (req('@node-rs/crc32') as { crc32c: Crc32c }).crc32c;
  } catch {
    return undefined;
  }
}
const nativeCrc = loadNativeCrc();

/** CRC32C of a then b (as if concatenated). */
export function crc32cOf(a: Buffer, b: Buffer): number {
  if (nativeCrc) return nativeCrc(b, nativeCrc(a)) >>> 0;
  return clientCrc32c(Buffer.concat([a, b])) >>> 0;
}

/** One encoded record batch: its header and its (shared, never written to) records. */
export interface EncodedBatch {
  partition: number;
  /** Messages in the batch. */
  n: number;
  head: Buffer;
  records: Buffer;
}

export class RecordBatchEncoder {
  private readonly recordsByCount = new Map<number, Buffer>();

  constructor(private readonly value: Buffer) {}

  /** The records of n unkeyed messages (offset deltas 0..n-1, timestamp delta 0), built once per n. */
  records(n: number): Buffer {
    let r = this.recordsByCount.get(n);
    if (!r) {
      const parts: Buffer[] = [];
      // Exactly what the Producer hands the encoder for an unkeyed message: no key, no headers.
      const message = { topic: '', value: this.value, headers: new Map(), timestamp: 0n } as unknown as MessageRecord;
      for (let i = 0; i < n; i++) parts.push(createRecord(message, i, 0n).buffer);
      r = Buffer.concat(parts);
      this.recordsByCount.set(n, r);
    }
    return r;
  }

  /**
   * A batch of n messages timestamped `timestampMs` (create time), with the values the client
   * writes for a producer that is neither idempotent nor transactional (producer id −1, epoch 0,
   * base sequence 0, partition leader epoch 0).
   */
  encode(partition: number, n: number, timestampMs: number): EncodedBatch {
    const records = this.records(n);
    const head = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
    const ts = BigInt(Math.floor(timestampMs));
    head.writeBigInt64BE(0n, 0); // base offset
    head.writeInt32BE(BATCH_HEADER_BYTES - 12 + records.length, 8); // batch length (after this field)
    head.writeInt32BE(0, 12); // partition leader epoch
    head.writeInt8(2, 16); // magic
    head.writeInt16BE(0, 21); // attributes: no compression, create time
    head.writeInt32BE(n - 1, 23); // last offset delta
    head.writeBigInt64BE(ts, 27); // first timestamp
    head.writeBigInt64BE(ts, 35); // max timestamp
    head.writeBigInt64BE(-1n, 43); // producer id
    head.writeInt16BE(0, 51); // producer epoch
    head.writeInt32BE(0, 53); // base sequence
    head.writeInt32BE(n, 57); // records
    head.writeUInt32BE(crc32cOf(head.subarray(CRC_FROM), records), 17);
    return { partition, n, head, records };
  }
}

/**
 * A Produce request (v11) for one topic: the batches' partitions in the order given. Its bytes are
 * those of the client's produce v11 `createRequest` for the same messages.
 */
export function produceRequestV11(acks: number, timeoutMs: number, topic: string, batches: readonly EncodedBatch[]): Writer {
  const w = Writer.create().appendString(null).appendInt16(acks).appendInt32(timeoutMs);
  w.appendUnsignedVarInt(2).appendString(topic).appendUnsignedVarInt(batches.length + 1);
  for (const b of batches) {
    w.appendInt32(b.partition).appendUnsignedVarInt(b.head.length + b.records.length + 1);
    w.append(b.head).append(b.records).appendTaggedFields();
  }
  w.appendTaggedFields().appendTaggedFields();
  if (acks === 0) (w.context as { noResponse?: boolean }).noResponse = true;
  return w;
}
