import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRacefile } from '../../../src/workloads/race/load.js';
import { expectedPods, raceManifests } from '../../../src/workloads/race/k8s.js';
import { runRace } from '../../../src/workloads/race/run.js';
import { racefileSchema } from '../../../src/workloads/race/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'gr-k8s-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SAMPLE = resolve(import.meta.dirname, '..', '..', '..', 'racefiles', 'static-http-k8s.yaml.njk');
const k8s = { namespace: 'greenrace', images: { tools: 'greenrace.local/tools:abc' } };

describe('racefiles with Kubernetes configs', () => {
  it("the StaticHttpBenchmark sample: server Deployment + Service, 2 client pods, the cluster's tools image, free roles", () => {
    const l = loadRacefile(SAMPLE, { params: { clients: 3 }, hosts: {}, run: { id: 'r1' }, k8s });
    const sets = raceManifests(l.race, l.file);
    expect(sets).toHaveLength(1);
    expect(sets[0]!.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/server', 'Service/server', 'Deployment/client']);
    expect(JSON.stringify(sets[0]!.objects)).toContain('greenrace.local/tools:abc');
    expect(expectedPods(sets[0]!.objects, () => 0)).toBe(4);
    expect(l.race.benchmark[0]).toMatchObject({ role: 'client' });
    expect(l.race.requires).toEqual({ server: ['nginx'], client: ['wrk'] });
    expect(l.rendered).toContain('http://server.greenrace.svc.cluster.local:80/');
  });

  it("Podrace's own form: bare file names relative to the racefile; a DaemonSet counts its nodes", () => {
    writeFileSync(join(dir, 'srv.yaml'), 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds}\nspec: {selector: {matchLabels: {podrace-role: s}}, template: {metadata: {labels: {podrace-role: s}}, spec: {containers: [{name: c, image: i}]}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {podrace-role: x}}\nspec: {containers: [{name: c, image: i}]}\n');
    writeFileSync(join(dir, 'race.yaml'), 'configs: [srv.yaml]\nbenchmark: [{role: any-role.1, command: ["true"]}]\n');
    const l = loadRacefile(join(dir, 'race.yaml'), { params: {}, hosts: {}, run: { id: 'r' } });
    expect(l.race.configs[0]).toEqual({ type: 'kubernetes', file: 'srv.yaml', ready_timeout: 300 });
    const sets = raceManifests(l.race, l.file);
    expect(expectedPods(sets[0]!.objects, (n) => (n === 'ds' ? 3 : 0))).toBe(4);
    writeFileSync(join(dir, 'missing.yaml'), 'configs: [nope.yaml]\nbenchmark: [{role: a, command: x}]\n');
    expect(() => raceManifests(loadRacefile(join(dir, 'missing.yaml'), { params: {}, hosts: {}, run: { id: 'r' } }).race, join(dir, 'missing.yaml'))).toThrow(/configs\[0\]: cannot read .*nope\.yaml/);
  });

  it('a kubernetes config needs either a file or manifests; role names are label values', () => {
    expect(racefileSchema.safeParse({ configs: [{ type: 'kubernetes' }], benchmark: [{ role: 'a', command: 'x' }] }).success).toBe(false);
    expect(racefileSchema.safeParse({ configs: [{ type: 'kubernetes', file: 'a', manifests: [{}] }], benchmark: [{ role: 'a', command: 'x' }] }).success).toBe(false);
    expect(racefileSchema.safeParse({ benchmark: [{ role: 'bad role!', command: 'x' }] }).success).toBe(false);
  });

  it('on hosts, a Kubernetes config is refused before any host is touched', async () => {
    const race = racefileSchema.parse({ configs: ['x.yaml'], benchmark: [{ role: 'worker', command: 'true' }] });
    const ex = new Proxy({}, { get: () => () => Promise.reject(new Error('touched a host')) }) as never;
    await expect(runRace(ex, [], race, { runId: 'r', runDir: dir, file: 'race.yaml' })).rejects.toThrow('race.yaml: configs[0] is a Kubernetes manifest: it needs an experiment with runtime: k3s');
  });
});
