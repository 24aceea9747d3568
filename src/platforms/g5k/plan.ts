/** `setup --dry-run` on Grid'5000: the job(s) reserve would submit and how nodes would be reached. Calls no API. */
import type { Host } from '../../core/types.js';
import type { PlatformPlan, ReserveRequest } from '../platform.js';
import type { G5kContext } from './context.js';
import { defaultPublicKey } from './context.js';
import { loadCredentials } from './credentials.js';
import { formatSpan } from './clock.js';
import { HOLD_COMMAND, jobSpecs, walltimeSeconds } from './oar.js';
import { shortName } from './presets.js';
import { resolveRequest } from './resolve.js';

function safeUsername(): string | undefined {
  try {
    return loadCredentials({ inside: true })?.username;
  } catch {
    return undefined;
  }
}

export async function plan(ctx: G5kContext, req: ReserveRequest): Promise<PlatformPlan> {
  const r = await resolveRequest(req.experiment, req.roles);
  const g = r.config;
  const specs = jobSpecs(r.placements, r.job);
  const user = g.user ?? safeUsername() ?? '<your Grid\'5000 login>';
  const lines: string[] = [];
  for (const s of specs) {
    const site = s.site === '?' ? '<site from the reference API>' : s.site;
    lines.push(`g5k job ${JSON.stringify(s.name)} at ${site}: POST ${g.api_url}/sites/${site}/jobs`);
    lines.push(`  resources: ${s.resources}`);
    lines.push(`  queue: ${s.submission.queue}`);
    lines.push(`  types: ${(s.submission.types ?? []).join(', ') || '(none)'}`);
    if (s.submission.project) lines.push(`  project: ${s.submission.project}`);
    if (s.submission.reservation) lines.push(`  reservation: ${s.submission.reservation}`);
    lines.push(`  command: ${HOLD_COMMAND}`);
    lines.push(`  request: ${JSON.stringify(s.submission)}`);
    for (const p of s.placements) lines.push(`  ${p.role}: ${p.nodes.length ? p.nodes.join(', ') : `${p.count} node(s) of ${p.cluster}`}`);
  }
  if (r.unresolved.length) lines.push(`  cluster(s) ${r.unresolved.join(', ')}: not in the presets; their site is looked up in the reference API at reserve`);
  lines.push(`  reattach: a waiting or running job named ${r.job.name} is reused instead of submitting another`);
  lines.push(`  wait: at most ${formatSpan(g.wait_timeout ?? walltimeSeconds(r.job.walltime))} for the job to run (platform.g5k.wait_timeout; the job is kept after it)`);
  if (g.deploy) lines.push(`  deploy: ${g.environment} with key ${g.public_key ?? defaultPublicKey() ?? '~/.ssh/id_ed25519.pub (missing)'}; at most 3 attempts; nodes already deployed are skipped`);
  const jump = ctx.jumpFor(g.jump, user, g.gateway);
  const direct = g.jump === 'never' ? ' (direct: jump: never)' : " (direct: inside Grid'5000)";
  lines.push(`  ssh: ${g.deploy ? 'root' : `${user} (root through sudo-g5k)`}@<node>.<site>.grid5000.fr${jump ? ` via ProxyJump ${jump}` : direct}`);
  const mapped = Object.keys(g.address_map).length;
  if (mapped) lines.push(`  address_map: ${mapped} node(s) reached at their mapped address${g.jump === 'auto' ? ', without the gateway' : ''}${g.shared_filesystem ? '; they share this machine\'s filesystem' : ''}`);
  lines.push('  machine: each node is its own machine (its fqdn)');
  const hosts: Host[] = [];
  for (const p of r.placements) {
    for (let i = 0; i < p.count; i++) {
      const fq = p.nodes[i];
      const name = fq ? shortName(fq) : `${p.cluster}-${p.role}${i + 1}`;
      const address = fq ?? `<a ${p.cluster} node assigned by OAR>`;
      hosts.push({ name, address, port: 22, user: g.deploy ? 'root' : user, roles: [p.role], machine: address });
    }
  }
  return { lines, hosts, sharedFilesystem: g.shared_filesystem };
}
