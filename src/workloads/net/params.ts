import { UsageError } from '../../core/errors.js';
import type { WorkHost } from '../../core/types.js';
import type { NetParams, NetToolDef } from './tools/driver.js';
import type { NetConfig } from './schema.js';

/** The parameters of one measurement from the `net` section, for a tool. */
export function paramsOf(n: NetConfig, t: NetToolDef): NetParams {
  return {
    tool: t.name,
    protocol: n.protocol,
    streams: n.streams,
    duration: n.duration,
    ...(n.message_size !== undefined ? { messageSize: n.message_size } : {}),
    ...(n.bitrate !== undefined ? { bitrate: n.bitrate } : {}),
    reverse: n.reverse,
    port: n.port ?? t.defaultPort ?? 5201,
    ...(n.netperf_test ? { test: n.netperf_test } : {}),
    ...(n.omit ? { omit: n.omit } : {}),
  };
}

/** Server and client by role: different hosts unless the roles leave none (and that is allowed). */
export function choosePair(hosts: WorkHost[], serverRole: string, clientRole: string, allowSame: boolean): { server: WorkHost; client: WorkHost } {
  const servers = hosts.filter((h) => (h.roles as string[]).includes(serverRole));
  const clients = hosts.filter((h) => (h.roles as string[]).includes(clientRole));
  if (!servers.length) throw new UsageError('net.no_server', `no host has the server role "${serverRole}" (net.server_role)`);
  if (!clients.length) throw new UsageError('net.no_client', `no host has the client role "${clientRole}" (net.client_role)`);
  for (const s of servers) for (const c of clients) if (s.name !== c.name) return { server: s, client: c };
  if (!allowSame) {
    throw new UsageError('net.same_host', `server (${serverRole}) and client (${clientRole}) would both be ${servers[0]!.name}: give the roles more hosts, or set net.allow_same_host: true`);
  }
  return { server: servers[0]!, client: clients[0]! };
}
