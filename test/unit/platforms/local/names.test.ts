import { describe, expect, it } from 'vitest';
import {
  bridgeName,
  IFNAME_MAX,
  layoutHosts,
  MAX_LOCAL_HOSTS,
  nsName,
  parseSubnet,
  subnetCandidates,
  tagFor,
  vethName,
  LAST_HOST_OCTET,
} from '../../../../src/platforms/local/names.js';

describe('local platform names', () => {
  it('derives the same short tag from the same experiment name, different ones from others', () => {
    expect(tagFor('quickstart')).toBe(tagFor('quickstart'));
    expect(tagFor('quickstart')).toMatch(/^gr[0-9a-z]{4}$/);
    const tags = new Set(['a', 'b', 'quickstart', 'ingest-kafka', 'ingest-redpanda', 'plt1', 'plt2'].map((n) => tagFor(n)));
    expect(tags.size).toBe(7);
  });

  it('gives deterministic, distinct alternative tags when the first is taken', () => {
    const alts = [0, 1, 2, 3].map((k) => tagFor('quickstart', k));
    expect(new Set(alts).size).toBe(4);
    expect(tagFor('quickstart', 2)).toBe(alts[2]);
  });

  it('keeps every Linux interface name within 15 characters, even for the largest cluster', () => {
    for (const name of ['a', 'x'.repeat(40), 'ingest-redpanda-with-a-long-name']) {
      const t = tagFor(name, 63);
      expect(bridgeName(t).length).toBeLessThanOrEqual(IFNAME_MAX);
      expect(vethName(t, LAST_HOST_OCTET).length).toBeLessThanOrEqual(IFNAME_MAX);
    }
    expect(nsName('gr0abc', 'worker-12')).toBe('gr0abc-worker-12');
  });

  it('tries every /24 of 10.77.0.0/16 once, starting from a place fixed by the name', () => {
    const c = subnetCandidates('quickstart');
    expect(c).toHaveLength(256);
    expect(new Set(c).size).toBe(256);
    expect(subnetCandidates('quickstart')).toEqual(c);
    expect(c[1]).toBe((c[0]! + 1) % 256);
    expect(subnetCandidates('other-experiment')[0]).not.toBe(c[0]);
  });

  it('reads platform.local.subnet only as a /24 in 10.0.0.0/8', () => {
    expect(parseSubnet('10.77.3.0/24')).toBe('10.77.3');
    expect(parseSubnet('10.1.250.0/24')).toBe('10.1.250');
    expect(parseSubnet('10.77.3.0/16')).toBeUndefined();
    expect(parseSubnet('192.168.1.0/24')).toBeUndefined();
    expect(parseSubnet('10.300.1.0/24')).toBeUndefined();
    expect(parseSubnet('10.1.2.5/24')).toBeUndefined();
  });
});

describe('local host layout', () => {
  it('names hosts <role>-<n>, roles on distinct hosts, addresses from .11 in role order', () => {
    const hosts = layoutHosts('gr0abc', { control: 1, broker: 3, worker: 2 });
    expect(hosts.map((h) => `${h.name}@${h.octet}`)).toEqual([
      'control-1@11',
      'broker-1@12',
      'broker-2@13',
      'broker-3@14',
      'worker-1@15',
      'worker-2@16',
    ]);
    expect(hosts[0]).toMatchObject({ role: 'control', index: 1, ns: 'gr0abc-control-1', veth: 'gr0abch11' });
  });

  it('keeps existing hosts and their addresses when workers are added, using the lowest free address', () => {
    const before = layoutHosts('gr0abc', { control: 1, broker: 1, worker: 3 });
    const fewer = layoutHosts('gr0abc', { control: 1, broker: 1, worker: 1 }, before);
    expect(fewer.map((h) => h.name)).toEqual(['control-1', 'broker-1', 'worker-1']);
    const more = layoutHosts('gr0abc', { control: 1, broker: 1, worker: 4 }, fewer);
    expect(more.slice(0, 3)).toEqual(fewer);
    expect(more.map((h) => h.octet)).toEqual([11, 12, 13, 14, 15, 16]);
    // worker-3's old address .15 is free again and reused; nothing collides
    expect(new Set(more.map((h) => h.octet)).size).toBe(more.length);
  });

  it('refuses more hosts than a /24 holds', () => {
    expect(layoutHosts('gr0abc', { control: 1, broker: 0, worker: MAX_LOCAL_HOSTS - 1 })).toHaveLength(MAX_LOCAL_HOSTS);
    expect(() => layoutHosts('gr0abc', { control: 1, broker: 0, worker: MAX_LOCAL_HOSTS })).toThrow(/at most 243 hosts/);
  });
});
