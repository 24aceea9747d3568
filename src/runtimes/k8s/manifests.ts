/**
 * Manifests rendered from the Nunjucks templates in `templates/k8s/` (or given as YAML text, as
 * racefile configs are), parsed into objects, namespaced and labelled with the run's labels, ready
 * for server-side apply.
 */
import { existsSync, readdirSync } from 'node:fs';
import nunjucks from 'nunjucks';
import yaml from 'js-yaml';
import { ConfigError } from '../../core/errors.js';
import { assetPath } from '../../core/paths.js';

/** The label every object greenrace applies carries, with the run (or session) it belongs to. */
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const RUN_LABEL = 'greenrace.io/run';
/** The node label carrying a host's role (set by the cluster's installs, k3s and upstream alike). */
export const ROLE_LABEL = 'greenrace.io/role';
/** The field manager of greenrace's server-side applies. */
export const FIELD_MANAGER = 'greenrace';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

/**
 * The label of the cluster-wide objects of a run (ClusterRoles, PersistentVolumes...): the namespace
 * whose run they belong to, so that deleting a run's objects by label spares another namespace's.
 */
export const NAMESPACE_LABEL = 'greenrace.io/namespace';

/** Where the loadgen image has node and greenrace's build (setup/k8s/images.py, recipe `loadgen`): the generators and the discovery sidecar run them. */
export const LOADGEN_IMAGE_NODE = '/usr/local/bin/node';
export const LOADGEN_IMAGE_ENTRYPOINT = '/opt/greenrace/dist/entrypoint.js';

/** Kinds that live outside namespaces (the ones greenrace's templates and racefiles may use). */
const CLUSTER_KINDS = new Set(['Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'PriorityClass', 'CustomResourceDefinition']);

export const isNamespaced = (kind: string): boolean => !CLUSTER_KINDS.has(kind);

export const TEMPLATE_DIR = (): string => assetPath('templates', 'k8s');

/** The templates greenrace ships (`templates/k8s/*.yaml.njk`). */
export function templateNames(): string[] {
  const dir = TEMPLATE_DIR();
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml.njk')).sort() : [];
}

let env: nunjucks.Environment | undefined;

/** Render one template of templates/k8s/ into its YAML text. */
export function renderTemplate(name: string, vars: Record<string, unknown>): string {
  env ??= new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATE_DIR()), { autoescape: false, throwOnUndefined: true, trimBlocks: true, lstripBlocks: true });
  env.addFilter('json', (v: unknown) => JSON.stringify(v));
  try {
    return env.render(name, vars);
  } catch (e) {
    throw new Error(`internal: templates/k8s/${name}: ${(e as Error).message.replace(/\s+/g, ' ')}`);
  }
}

/**
 * The objects of a multi-document YAML text. Every document must be a Kubernetes object (apiVersion,
 * kind, metadata.name); `source` names the file for errors. Empty documents are skipped.
 */
export function parseManifests(text: string, source: string): KubeObject[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, undefined, { filename: source });
  } catch (e) {
    const ex = e as yaml.YAMLException;
    throw new ConfigError('k8s.manifest_yaml', `${source}${ex.mark ? `:${ex.mark.line + 1}:${ex.mark.column + 1}` : ''}: YAML syntax error: ${ex.reason ?? ex.message}`, { file: source });
  }
  const out: KubeObject[] = [];
  docs.forEach((d, i) => {
    if (d === null || d === undefined) return;
    const o = d as Partial<KubeObject>;
    const what = `${source}: document ${i + 1}`;
    if (typeof o !== 'object' || Array.isArray(o)) throw new ConfigError('k8s.manifest_invalid', `${what} is not a Kubernetes object (a mapping)`, { file: source });
    for (const k of ['apiVersion', 'kind'] as const) if (typeof o[k] !== 'string' || !o[k]) throw new ConfigError('k8s.manifest_invalid', `${what}: ${k} is required`, { file: source });
    if (!o.metadata || typeof o.metadata.name !== 'string' || !o.metadata.name) throw new ConfigError('k8s.manifest_invalid', `${what} (${o.kind}): metadata.name is required`, { file: source });
    out.push(o as KubeObject);
  });
  return out;
}

/**
 * The objects as greenrace applies them: namespaced ones put in `namespace` (an object naming another
 * namespace is an error: cleanup deletes by label in one namespace), every object and every pod
 * template labelled with `labels` (the run's: deleted by them whatever happens), cluster-wide ones
 * also with the namespace (NAMESPACE_LABEL).
 */
export function prepare(objects: KubeObject[], namespace: string, labels: Record<string, string>, source = 'manifest'): KubeObject[] {
  return objects.map((o) => {
    const c = structuredClone(o);
    if (isNamespaced(c.kind)) {
      if (c.metadata.namespace && c.metadata.namespace !== namespace) {
        throw new ConfigError('k8s.manifest_namespace', `${source}: ${c.kind} ${c.metadata.name} names namespace ${c.metadata.namespace}; greenrace applies everything of a run in ${namespace} (leave metadata.namespace out)`, { file: source });
      }
      c.metadata.namespace = namespace;
    }
    c.metadata.labels = { ...(c.metadata.labels ?? {}), ...labels, ...(isNamespaced(c.kind) || c.kind === 'Namespace' ? {} : { [NAMESPACE_LABEL]: namespace }) };
    const tpl = (c.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
    if (tpl && typeof tpl === 'object') {
      tpl.metadata ??= {};
      tpl.metadata.labels = { ...(tpl.metadata.labels ?? {}), ...labels };
    }
    const jobTpl = (c.spec as { jobTemplate?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.jobTemplate;
    if (jobTpl && typeof jobTpl === 'object') {
      jobTpl.metadata ??= {};
      jobTpl.metadata.labels = { ...(jobTpl.metadata.labels ?? {}), ...labels };
    }
    return c;
  });
}

/** Render a template of templates/k8s/ into prepared objects. */
export function fromTemplate(name: string, vars: Record<string, unknown>, namespace: string, labels: Record<string, string>): KubeObject[] {
  return prepare(parseManifests(renderTemplate(name, { namespace, labels, ...vars }), `templates/k8s/${name}`), namespace, labels, `templates/k8s/${name}`);
}

/** A label selector from labels (`a=b,c=d`). */
export const selector = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** A name Kubernetes accepts (DNS-1123 label, at most `max` characters) from free text. */
export function dnsName(s: string, max = 63): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return n || 'x';
}
