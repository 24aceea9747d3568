import type { Command } from 'commander';

/**
 * Internal (hidden from help): the discovery sidecar in Prometheus' pod on the cluster
 * (templates/k8s/monitoring.yaml.njk). Lists and watches the namespace's pods and the nodes as the
 * pod's ServiceAccount and keeps Prometheus' file_sd files (pods.json, nodes.json) in --dir.
 */
export function registerK8sDiscovery(program: Command): void {
  program
    .command('k8s-discovery', { hidden: true })
    .description('internal: keep Prometheus file_sd files from the Kubernetes API (pods of --namespace, nodes)')
    .requiredOption('--namespace <ns>', 'the namespace whose pods are listed')
    .requiredOption('--dir <folder>', 'where pods.json and nodes.json are written')
    .action(async (raw: { namespace: string; dir: string }) => {
      const { runDiscovery } = await import('../../app/k8s-discovery.js');
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await runDiscovery({ namespace: raw.namespace, dir: raw.dir, signal: ac.signal, log: (l) => void process.stderr.write(`[k8s-discovery] ${l}\n`) });
    });
}
