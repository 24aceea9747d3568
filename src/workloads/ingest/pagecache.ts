/**
 * The brokers' page cache around an ingest run. A broker's writes go to the page cache first; the
 * kernel writes them to disk once they are older than `vm.dirty_expire_centisecs` (30 s by default)
 * or once the dirty pages pass the background threshold (`vm.dirty_background_bytes`, else
 * `vm.dirty_background_ratio` % of the memory that can hold dirty pages). So:
 * - what a run finds depends on what the runs before it left dirty: a run that starts while the
 *   kernel writes back the last run's gigabytes competes with it. `ingest.sync_brokers` writes them
 *   back (`sync` on each broker host) before the generators start, so every run starts alike;
 * - a run that writes less than the threshold per broker and ends before the expiry never waits
 *   for the disk: its rate is what the page cache absorbs for that long, not what the disk
 *   sustains. The record says so (`results.page_cache`) rather than leave it to be guessed.
 */
import { decimalBytes } from '../../core/bytes.js';

/** One broker host's page cache, read around its `sync`. */
export interface BrokerSync {
  /** Dirty and Writeback bytes (/proc/meminfo) before the sync: what it wrote back. */
  dirtyBytes: number;
  writebackBytes: number;
  /** Dirty + Writeback bytes right after it. */
  afterBytes: number;
  /** How long the sync took. */
  seconds: number;
  /** The background writeback threshold at that moment (see backgroundThreshold). */
  backgroundThresholdBytes: number;
  /** vm.dirty_expire_centisecs, in seconds. */
  expireSeconds: number;
}

/**
 * A shell script for one broker host: /proc/meminfo and the vm.dirty_* settings before, `sync`
 * timed, Dirty + Writeback after. Output: `key value` lines (meminfo in kB).
 */
export function syncScript(): string {
  return [
    'set -e',
    "m() { awk '/^(MemFree|Active\\(file\\)|Inactive\\(file\\)|Dirty|Writeback):/ { sub(\":\", \"\", $1); print p $1, $2 }' p=\"$1\" /proc/meminfo; }",
    'm before_',
    'echo bg_bytes $(cat /proc/sys/vm/dirty_background_bytes)',
    'echo bg_ratio $(cat /proc/sys/vm/dirty_background_ratio)',
    'echo expire_cs $(cat /proc/sys/vm/dirty_expire_centisecs)',
    'echo t0 $(date +%s.%N)',
    'sync',
    'echo t1 $(date +%s.%N)',
    'm after_',
  ].join('\n');
}

/**
 * The kernel's background writeback threshold, approximately: `dirty_background_bytes` when set,
 * else `dirty_background_ratio` % of the dirtyable memory (free pages + file pages; the kernel also
 * leaves out its reserves, so this is an upper bound).
 */
export function backgroundThreshold(o: { bgBytes: number; bgRatio: number; memFreeKiB: number; fileKiB: number }): number {
  if (o.bgBytes > 0) return o.bgBytes;
  return Math.round(((o.memFreeKiB + o.fileKiB) * 1024 * o.bgRatio) / 100);
}

/** Parse syncScript()'s output; names the host in the error. */
export function parseSync(out: string, host: string): BrokerSync {
  const v = new Map<string, number>();
  for (const line of out.split('\n')) {
    const [k, x] = line.trim().split(/\s+/);
    if (k && x !== undefined && Number.isFinite(Number(x))) v.set(k, Number(x));
  }
  const need = (k: string): number => {
    const x = v.get(k);
    if (x === undefined) throw new Error(`broker sync on ${host}: no ${k} in its output`);
    return x;
  };
  const kib = (k: string): number => need(k) * 1024;
  return {
    dirtyBytes: kib('before_Dirty'),
    writebackBytes: kib('before_Writeback'),
    afterBytes: kib('after_Dirty') + kib('after_Writeback'),
    seconds: Math.round((need('t1') - need('t0')) * 1000) / 1000,
    backgroundThresholdBytes: backgroundThreshold({ bgBytes: need('bg_bytes'), bgRatio: need('bg_ratio'), memFreeKiB: need('before_MemFree'), fileKiB: need('before_Active(file)') + need('before_Inactive(file)') }),
    expireSeconds: need('expire_cs') / 100,
  };
}

export interface PageCacheVerdict {
  /** Bytes each broker was sent since its sync (messages acked in warm-up and window × size × replication ÷ brokers). */
  bytesPerBroker: number;
  /** The lowest background threshold among the brokers. */
  thresholdBytes: number;
  /** Seconds from the shared start to the end of the window. */
  seconds: number;
  expireSeconds: number;
  /** Under the threshold and shorter than the expiry: the disk was not waited for. */
  absorbed: boolean;
}

/** Whether the run's writes could all stay in the brokers' page cache (see the module comment). */
export function pageCacheVerdict(o: { messages: number; messageSize: number; replication: number; brokers: number; seconds: number; syncs: BrokerSync[] }): PageCacheVerdict | undefined {
  if (!o.syncs.length || o.brokers < 1) return undefined;
  const bytesPerBroker = Math.round((o.messages * o.messageSize * o.replication) / o.brokers);
  const thresholdBytes = Math.min(...o.syncs.map((s) => s.backgroundThresholdBytes));
  const expireSeconds = Math.min(...o.syncs.map((s) => s.expireSeconds));
  return { bytesPerBroker, thresholdBytes, seconds: Math.round(o.seconds * 10) / 10, expireSeconds, absorbed: bytesPerBroker < thresholdBytes && o.seconds < expireSeconds };
}

/** The line a run prints when its writes stayed in the page cache. */
export function absorbedNote(v: PageCacheVerdict): string {
  return `note: about ${decimalBytes(v.bytesPerBroker)} per broker in ${v.seconds} s, under its background writeback threshold (about ${decimalBytes(v.thresholdBytes)}) and its ${v.expireSeconds} s dirty expiry: the page cache took it all and the disk was never waited for; a longer run shows what the disk sustains`;
}

/** The progress line of a sync. */
export function syncLine(host: string, s: BrokerSync): string {
  return `sync on ${host}: ${decimalBytes(s.dirtyBytes + s.writebackBytes)} of dirty pages written back in ${s.seconds} s`;
}
