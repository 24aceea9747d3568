import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { absorbedNote, backgroundThreshold, pageCacheVerdict, parseSync, syncScript, type BrokerSync } from '../../../../src/workloads/ingest/pagecache.js';

// syncScript()'s output on this machine with 2.2 GiB dirty (recorded 2026-12-03).
const RECORDED = `before_MemFree 14618696
before_Active(file) 1875612
before_Inactive(file) 6961080
before_Dirty 2276612
before_Writeback 0
bg_bytes 0
bg_ratio 10
expire_cs 3000
t0 1796331055.080882979
t1 1796331059.427772746
after_MemFree 14137336
after_Active(file) 1847880
after_Inactive(file) 7447520
after_Dirty 3148
after_Writeback 20
`;

describe('a broker host\'s sync', () => {
  it('reads what was dirty, how long the sync took and the background threshold', () => {
    const s = parseSync(RECORDED, 'broker-1');
    expect(s.dirtyBytes).toBe(2276612 * 1024);
    expect(s.writebackBytes).toBe(0);
    expect(s.afterBytes).toBe((3148 + 20) * 1024);
    expect(s.seconds).toBe(4.347);
    // 10 % of (free + file pages): (14618696 + 1875612 + 6961080) KiB × 1024 / 10.
    expect(s.backgroundThresholdBytes).toBe(Math.round(((14618696 + 1875612 + 6961080) * 1024 * 10) / 100));
    expect(s.expireSeconds).toBe(30);
  });

  it('takes dirty_background_bytes when it is set', () => {
    expect(backgroundThreshold({ bgBytes: 500_000_000, bgRatio: 10, memFreeKiB: 1e7, fileKiB: 1e7 })).toBe(500_000_000);
  });

  it('names the host when its output lacks a figure', () => {
    expect(() => parseSync('before_Dirty 1\n', 'broker-2')).toThrow(/broker sync on broker-2: no before_Writeback/);
  });

  it('the script runs here and its output parses', () => {
    const s = parseSync(execFileSync('sh', ['-c', syncScript()], { encoding: 'utf8' }), 'this machine');
    expect(s.seconds).toBeGreaterThanOrEqual(0);
    expect(s.backgroundThresholdBytes).toBeGreaterThan(0);
  });
});

describe('whether a run\'s writes stayed in the page cache', () => {
  const sync: BrokerSync = { dirtyBytes: 0, writebackBytes: 0, afterBytes: 0, seconds: 0.1, backgroundThresholdBytes: 2_400_000_000, expireSeconds: 30 };

  it('5 s at 400,000 msg/s of 1 KiB on one broker: 2.05 GB, under the threshold and the expiry', () => {
    const v = pageCacheVerdict({ messages: 400_000 * 5, messageSize: 1024, replication: 1, brokers: 1, seconds: 5, syncs: [sync] })!;
    expect(v.bytesPerBroker).toBe(2_048_000_000);
    expect(v.absorbed).toBe(true);
    expect(absorbedNote(v)).toMatch(/about 2\.05 GB per broker in 5 s, under its background writeback threshold \(about 2\.40 GB\) and its 30 s dirty expiry/);
  });

  it('the same rate for 8 s passes the threshold; a slow run longer than the expiry reaches the disk too', () => {
    expect(pageCacheVerdict({ messages: 400_000 * 8, messageSize: 1024, replication: 1, brokers: 1, seconds: 8, syncs: [sync] })!.absorbed).toBe(false);
    expect(pageCacheVerdict({ messages: 1000 * 60, messageSize: 1024, replication: 1, brokers: 1, seconds: 60, syncs: [sync] })!.absorbed).toBe(false);
  });

  it('counts replicas and spreads over the brokers; the lowest threshold decides', () => {
    const small = { ...sync, backgroundThresholdBytes: 1_000_000_000 };
    const v = pageCacheVerdict({ messages: 1_000_000, messageSize: 1000, replication: 3, brokers: 3, seconds: 5, syncs: [sync, small, sync] })!;
    expect(v.bytesPerBroker).toBe(1_000_000_000);
    expect(v.thresholdBytes).toBe(1_000_000_000);
    expect(v.absorbed).toBe(false);
  });

  it('no sync, no verdict', () => {
    expect(pageCacheVerdict({ messages: 1, messageSize: 1, replication: 1, brokers: 1, seconds: 1, syncs: [] })).toBeUndefined();
  });
});
