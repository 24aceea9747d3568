/**
 * The discovery sidecar's use case (hidden command `k8s-discovery`, run in Prometheus' pod on the
 * cluster): keep Prometheus' file_sd files from the Kubernetes API until stopped (runtimes/k8s/discovery).
 */
export { runDiscovery, type DiscoveryOptions } from '../runtimes/k8s/discovery/watch.js';
