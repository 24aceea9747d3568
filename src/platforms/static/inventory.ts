/**
 * Reading an existing Ansible YAML inventory in the seeds' hosts.yaml format:
 *
 * ```yaml
 * all:
 *   vars: { ansible_user: root }            # optional, for every host
 *   children:
 *     control: { hosts: { c1: { kubernetes_role: control_plane, ansible_host: 10.0.0.1 } } }
 *     broker:  { vars: {...}, hosts: { b1: ..., b2: ... } }
 *     worker:  { hosts: { w1: ~ } }
 * ```
 * Per host: ansible_host, ansible_user, ansible_port, ansible_ssh_private_key_file, ansible_ssh_common_args
 * (e.g. `-o ProxyJump=user@gw`), or a `jump` var (`[user@]host[:port]`, turned into ProxyJump), and
 * `machine`: the physical machine the host runs on, for energy accounting (hosts with the same value
 * share one machine's power; default: the host's address). Every error names the file and the key path.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError } from '../../core/errors.js';
import { ROLES, type Host, type Role } from '../../core/types.js';

export interface StaticInventory {
  file: string;
  hosts: Host[];
  /** `gr_shared_fs: true` in all.vars: the hosts share the controller's filesystem. */
  sharedFilesystem: boolean;
  /** `gr_controller_address` in all.vars: where hosts reach this machine. */
  controllerAddress?: string;
  /** Per-host `gr_data_dir` when the inventory sets it. */
  dataDirs: Record<string, string>;
}

type Scalar = string | number | boolean;
type Vars = Record<string, Scalar>;

const display = (p: string): string => {
  const r = relative(process.cwd(), p);
  return r.startsWith('..') ? p : r;
};

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Where the inventory file is: an explicit `--inventory` (relative to the working directory), else
 * `platform.static.inventory` relative to the experiment file's folder, then to the working directory.
 */
export function resolveInventoryPath(opts: { override?: string; fromExperiment?: string; experimentFile?: string }): string {
  if (opts.override) {
    const p = resolve(expandHome(opts.override));
    if (!existsSync(p)) throw new ConfigError('platform.static.inventory_missing', `inventory file ${display(p)} does not exist (--inventory)`, { file: p });
    return p;
  }
  const ref = opts.fromExperiment;
  if (!ref) {
    throw new ConfigError('platform.static.no_inventory', 'the static platform needs an inventory: set platform.static.inventory or pass --inventory FILE', {
      path: 'platform.static.inventory',
      ...(opts.experimentFile ? { file: opts.experimentFile } : {}),
    });
  }
  const expanded = expandHome(ref);
  const tried = isAbsolute(expanded)
    ? [expanded]
    : [...(opts.experimentFile ? [resolve(dirname(opts.experimentFile), expanded)] : []), resolve(expanded)];
  for (const p of tried) if (existsSync(p)) return p;
  throw new ConfigError(
    'platform.static.inventory_missing',
    `${opts.experimentFile ? display(opts.experimentFile) + ': ' : ''}platform.static.inventory: inventory file "${ref}" not found (looked for ${[...new Set(tried)].map(display).join(' and ')})`,
    { path: 'platform.static.inventory', file: tried[0]! },
  );
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

function scalarVars(v: unknown, file: string, path: string): Vars {
  if (v === null || v === undefined) return {};
  if (!isMap(v)) throw new ConfigError('platform.static.inventory_shape', `${display(file)}: ${path}: expected a mapping of variables`, { file, path });
  const out: Vars = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = x;
    else if (x === null) continue;
    else throw new ConfigError('platform.static.inventory_shape', `${display(file)}: ${path}.${k}: expected a string, number or boolean`, { file, path: `${path}.${k}` });
  }
  return out;
}

function str(vars: Vars, key: string, file: string, path: string): string | undefined {
  const v = vars[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean' || String(v).trim() === '') {
    throw new ConfigError('platform.static.inventory_shape', `${display(file)}: ${path}.${key}: expected a non-empty string`, { file, path: `${path}.${key}` });
  }
  return String(v);
}

/** `[user@]host[:port]` → the ProxyJump value ssh expects (same syntax). */
function checkJump(v: string, file: string, path: string): string {
  if (!/^([A-Za-z0-9._-]+@)?[A-Za-z0-9.:_\-[\]]+$/.test(v)) {
    throw new ConfigError('platform.static.inventory_shape', `${display(file)}: ${path}: "${v}" is not a jump host like user@gateway or gateway:2222`, { file, path });
  }
  return v;
}

/** Parse the text of a hosts.yaml; `file` names it in errors and anchors relative key paths. */
export function parseInventory(text: string, file: string, opts: { defaultUser?: string } = {}): StaticInventory {
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (e) {
    const ex = e as yaml.YAMLException;
    const where = ex.mark ? `${display(file)}:${ex.mark.line + 1}:${ex.mark.column + 1}` : display(file);
    throw new ConfigError('platform.static.inventory_yaml', `${where}: YAML syntax error: ${ex.reason ?? ex.message}`, { file, cause: e });
  }
  const shape = (path: string, msg: string): never => {
    throw new ConfigError('platform.static.inventory_shape', `${display(file)}: ${path}: ${msg}`, { file, path });
  };
  if (!isMap(doc)) shape('(top level)', 'expected a mapping with the key "all"');
  const top = doc as Record<string, unknown>;
  for (const k of Object.keys(top)) if (k !== 'all') shape(k, 'unknown top-level key; allowed: all');
  const all = top.all;
  if (!isMap(all)) shape('all', 'expected a mapping with "children" (and optionally "vars")');
  const allMap = all as Record<string, unknown>;
  for (const k of Object.keys(allMap)) {
    if (k === 'hosts') shape('all.hosts', 'hosts must be placed in a role group: all.children.{control,broker,worker}.hosts');
    if (k !== 'children' && k !== 'vars') shape(`all.${k}`, 'unknown key; allowed: children, vars');
  }
  const allVars = scalarVars(allMap.vars, file, 'all.vars');
  const children = allMap.children;
  if (!isMap(children)) shape('all.children', 'expected a mapping of role groups (control, broker, worker)');
  const baseDir = dirname(file);

  const byName = new Map<string, { roles: Role[]; vars: Vars; path: string }>();
  for (const [group, body] of Object.entries(children as Record<string, unknown>)) {
    const gpath = `all.children.${group}`;
    if (!(ROLES as readonly string[]).includes(group)) shape(gpath, `unknown group "${group}"; allowed: ${ROLES.join(', ')}`);
    if (body === null) continue;
    if (!isMap(body)) shape(gpath, 'expected a mapping with "hosts" (and optionally "vars")');
    const bmap = body as Record<string, unknown>;
    for (const k of Object.keys(bmap)) if (k !== 'hosts' && k !== 'vars') shape(`${gpath}.${k}`, 'unknown key; allowed: hosts, vars');
    const groupVars = scalarVars(bmap.vars, file, `${gpath}.vars`);
    const hosts = bmap.hosts;
    if (hosts === null || hosts === undefined) continue;
    if (!isMap(hosts)) shape(`${gpath}.hosts`, 'expected a mapping of host names to their variables');
    for (const [name, hv] of Object.entries(hosts as Record<string, unknown>)) {
      const hpath = `${gpath}.hosts.${name}`;
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) shape(hpath, 'host names use letters, digits, ".", "_" and "-"');
      const vars = { ...allVars, ...groupVars, ...scalarVars(hv, file, hpath) };
      const prev = byName.get(name);
      if (prev) {
        prev.roles.push(group as Role);
        prev.vars = { ...prev.vars, ...vars };
      } else byName.set(name, { roles: [group as Role], vars, path: hpath });
    }
  }
  if (byName.size === 0) shape('all.children', 'no hosts in any group (control, broker, worker)');

  const out: Host[] = [];
  const dataDirs: Record<string, string> = {};
  for (const [name, { roles, vars, path }] of byName) {
    const address = str(vars, 'ansible_host', file, path) ?? name;
    const user = str(vars, 'ansible_user', file, path) ?? opts.defaultUser ?? userInfo().username;
    let port = 22;
    if (vars.ansible_port !== undefined) {
      const p = Number(vars.ansible_port);
      if (!Number.isInteger(p) || p < 1 || p > 65535) shape(`${path}.ansible_port`, `expected a port number 1-65535, got ${JSON.stringify(vars.ansible_port)}`);
      port = p;
    }
    const keyRaw = str(vars, 'ansible_ssh_private_key_file', file, path) ?? str(vars, 'ansible_private_key_file', file, path);
    let keyFile: string | undefined;
    if (keyRaw) {
      keyFile = resolve(baseDir, expandHome(keyRaw));
      if (!existsSync(keyFile) || !statSync(keyFile).isFile()) {
        throw new ConfigError('platform.static.key_missing', `${display(file)}: ${path}.ansible_ssh_private_key_file: key file ${display(keyFile)} does not exist`, {
          file,
          path: `${path}.ansible_ssh_private_key_file`,
        });
      }
    }
    const extra: Record<string, Scalar> = {};
    for (const [k, v] of Object.entries(vars)) {
      if (['ansible_host', 'ansible_user', 'ansible_port', 'ansible_ssh_private_key_file', 'ansible_private_key_file', 'jump', 'machine'].includes(k)) continue;
      extra[k] = v;
    }
    const jumpRaw = str(vars, 'jump', file, path);
    if (jumpRaw) {
      const jump = checkJump(jumpRaw, file, `${path}.jump`);
      const common = typeof extra.ansible_ssh_common_args === 'string' ? extra.ansible_ssh_common_args + ' ' : '';
      extra.ansible_ssh_common_args = `${common}-o ProxyJump=${jump}`;
    }
    if (typeof vars.gr_data_dir === 'string') dataDirs[name] = vars.gr_data_dir;
    const machine = str(vars, 'machine', file, path) ?? address;
    const host: Host = { name, address, port, user, roles: ROLES.filter((r) => roles.includes(r)), machine, ...(keyFile ? { keyFile } : {}) };
    if (Object.keys(extra).length) host.vars = extra;
    out.push(host);
  }
  const shared = allVars.gr_shared_fs;
  if (shared !== undefined && typeof shared !== 'boolean') shape('all.vars.gr_shared_fs', 'expected true or false');
  const ctrl = allVars.gr_controller_address;
  return {
    file,
    hosts: out,
    sharedFilesystem: shared === true,
    ...(typeof ctrl === 'string' ? { controllerAddress: ctrl } : {}),
    dataDirs,
  };
}

export function loadInventory(file: string, opts: { defaultUser?: string } = {}): StaticInventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('platform.static.inventory_unreadable', `cannot read inventory ${display(file)}: ${(e as Error).message}`, { file, cause: e });
  }
  return parseInventory(text, file, opts);
}

/** Role sizes are minimums: every role must have at least as many hosts as the experiment asks. */
export function checkRoleMinimums(inv: StaticInventory, wanted: Record<Role, number>): void {
  const short = ROLES.filter((r) => inv.hosts.filter((h) => h.roles.includes(r)).length < wanted[r]);
  if (!short.length) return;
  const parts = short.map((r) => `${r}: ${inv.hosts.filter((h) => h.roles.includes(r)).length} host(s), the experiment needs ${wanted[r]}`);
  throw new ConfigError(
    'platform.static.too_few_hosts',
    `${display(inv.file)}: too few hosts in role ${short.join(', ')} (${parts.join('; ')}); add hosts under all.children.${short[0]}.hosts or lower roles.${short[0]}`,
    { file: inv.file, path: `all.children.${short[0]}.hosts` },
  );
}
