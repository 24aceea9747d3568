/**
 * The ingest generators on Kubernetes (runtime k3s): one Job per generator instance (one pod, never
 * restarted) from the cluster's loadgen image (node + greenrace's build; with the perf-test driver,
 * the Kafka image with node and the build copied in), pinned to the worker node
 * the plan gave it, on the node's network. Everything else of the run is the hosts' run: plan.json
 * put in the run's folder of the host's data folder (through the executor), one shared start through
 * the generators' control servers, summaries and logs fetched from the same paths, the topic on the
 * brokers through the admin protocol.
 */
import { RunError } from '../../core/errors.js';
import type { WorkHost } from '../../core/types.js';
import type { K8sExecutor } from '../../runtimes/k8s/executor.js';
import { dnsName, LOADGEN_IMAGE_ENTRYPOINT, LOADGEN_IMAGE_NODE, selector } from '../../runtimes/k8s/manifests.js';
import type { GeneratorPlan, IngestPlan } from './plan.js';


/** The generators' Jobs of one run, started: wait for them, stop them, say where they ran. */
export interface GeneratorJobs {
  /** True when every generator pod ended (Succeeded or Failed) before the timeout. */
  wait(o: { timeoutMs: number; signal?: AbortSignal }): Promise<boolean>;
  /** Delete the Jobs (each pod gets its grace period: a stopped generator writes a partial summary). */
  stop(graceSeconds: number): Promise<void>;
  /** Generator id → `pod on node` (the record's `results.k8s.generators`). */
  pods(): Promise<Record<string, string>>;
}

/**
 * The perf-test driver runs in the Kafka image (a JRE and Kafka's jars, those the brokers run): the
 * Job's init container copies node and greenrace's build from the loadgen image into an emptyDir.
 */
export const KAFKA_IMAGE_LIBS = '/opt/kafka/libs';
const COPY_DIR = '/opt/gr';

/** The image each generator pod runs: the loadgen image (native) or the Kafka image (perf-test). */
function generatorImage(ex: K8sExecutor, driver: string): { image: string; copyFrom: { image: string; dir: string } | false; nodeBin: string; entrypoint: string } {
  const missing = (name: string): RunError =>
    new RunError('k8s.no_image', `the cluster has no ${name} image (cluster.json images.${name})`, { hint: 'build the images with `setup/install.sh --k8s`, then run setup again' });
  const loadgen = ex.images.loadgen;
  if (!loadgen) throw missing('loadgen');
  if (driver !== 'perf-test') return { image: loadgen, copyFrom: false, nodeBin: LOADGEN_IMAGE_NODE, entrypoint: LOADGEN_IMAGE_ENTRYPOINT };
  const kafka = ex.images.kafka;
  if (!kafka) throw missing('kafka');
  return { image: kafka, copyFrom: { image: loadgen, dir: COPY_DIR }, nodeBin: `${COPY_DIR}/node`, entrypoint: `${COPY_DIR}/greenrace/dist/entrypoint.js` };
}

export async function startGeneratorJobs(
  ex: K8sExecutor,
  plan: IngestPlan,
  o: { hostOf: (g: GeneratorPlan) => WorkHost; dirOf: (h: WorkHost) => string; grace: number; signal?: AbortSignal },
): Promise<GeneratorJobs> {
  const img = generatorImage(ex, plan.driver);
  const run = plan.runId;
  const jobName = (g: GeneratorPlan): string => dnsName(`loadgen-${run.slice(0, 8)}-${g.id}`);
  for (const g of plan.generators) {
    const h = o.hostOf(g);
    const dir = o.dirOf(h);
    await ex.applyTemplate(
      'loadgen-job.yaml.njk',
      {
        name: jobName(g),
        instance: dnsName(g.id),
        generator: g.id,
        runId: run,
        metricsPort: g.metricsPort,
        node: h.name,
        image: img.image,
        copyFrom: img.copyFrom,
        node_bin: img.nodeBin,
        entrypoint: img.entrypoint,
        dataDir: h.dataDir.replace(/\/+$/, '') || '/',
        dir,
        plan: `${dir}/plan.json`,
        summary: `${dir}/${g.id}.json`,
        logfile: `${dir}/loadgen-${g.id}.log`,
        grace: o.grace,
      },
      run,
    );
  }
  const sel = selector({ 'greenrace.io/run': run, 'greenrace.io/part': 'loadgen' });
  // Running (or already ended): the generators then wait for the shared start on their control servers.
  await ex.kube.waitReady(ex.namespace, sel, plan.generators.length, { timeoutMs: 300_000, what: 'the load generators', ...(o.signal ? { signal: o.signal } : {}) }).catch(async (e) => {
    const pods = await ex.kube.pods(ex.namespace, sel).catch(() => []);
    // A generator that already ended (it failed at once) is not "not ready": the run's wait reports it.
    if (pods.length === plan.generators.length && pods.every((p) => p.status?.phase === 'Running' || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')) return [];
    throw e;
  });
  const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((res) => {
      const onAbort = (): void => (clearTimeout(t), res());
      const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), res()), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  return {
    async wait(w) {
      const deadline = Date.now() + w.timeoutMs;
      while (Date.now() < deadline && !w.signal?.aborted) {
        const pods = await ex.kube.pods(ex.namespace, sel);
        if (pods.length >= plan.generators.length && pods.every((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')) return true;
        await sleep(1000, w.signal);
      }
      return false;
    },
    async stop(graceSeconds) {
      await ex.kube.deleteByLabel(ex.namespace, sel, { graceSeconds, waitMs: (graceSeconds + 30) * 1000 });
    },
    async pods() {
      const out: Record<string, string> = {};
      for (const p of await ex.kube.pods(ex.namespace, sel)) {
        const g = plan.generators.find((x) => dnsName(x.id) === p.metadata?.labels?.['greenrace.io/instance']);
        if (g) out[g.id] = `${p.metadata?.name} on ${p.spec?.nodeName}`;
      }
      return out;
    },
  };
}
