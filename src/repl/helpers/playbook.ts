import { isAbsolute, resolve } from 'node:path';
import { GreenraceError } from '../../core/errors.js';
import { stateDir } from '../../core/paths.js';
import { SERVICES, type ServiceName } from '../../core/types.js';
import { argError, type Session } from '../session.js';
import { describe } from '../overrides.js';
import { playbookNames, requireState } from '../cluster.js';
import { table, withView } from '../display.js';
import type { HelperDef } from './types.js';

export interface PSummary {
  playbook: string;
  service?: string;
  ok: string[];
  changed: string[];
  failed: string[];
  elapsedSeconds: number;
  logFile: string;
  hosts: Record<string, { ok: number; changed: number; failed: number; unreachable: number; skipped: number }>;
}

export const p: HelperDef = {
  name: 'p',
  kind: 'function',
  signature: 'p(playbookOrService, extraVars?)',
  summary: 'deploy one service (its Ansible role) or run a playbook, with progress; hosts ok/changed/failed',
  details: [
    `A service (${SERVICES.join(', ')}) is deployed on its hosts by setup.yml with only that service,`,
    "using the service registry (hosts, ports, scrape targets); it is recorded in the state so that killjob",
    'removes it. Anything else names a playbook under ansible/playbooks (or a path to a .yml file) run with',
    "the experiment's extra-vars. extraVars: an object merged over them.",
    'Returns {playbook, ok, changed, failed, hosts: {host: recap}, logFile}. A failed host is an error',
    'naming host and task. Ctrl-C stops ansible-playbook (and what it runs) and returns to the prompt.',
  ],
  examples: ["p('node_exporter')", "p('prometheus')", "p('monitoring-stack')", "p('kafka', { kafka_heap: '1g' })"],
  make: (s: Session) =>
    function p(what: unknown, extraVars: unknown = {}) {
      const sig = 'p(playbookOrService, extraVars?)';
      if (typeof what !== 'string' || what === '') {
        throw argError(sig, `expected a service (${SERVICES.join(', ')}) or a playbook (${playbookNames().join(', ')}) (got ${describe(what)})`);
      }
      if (extraVars === null || typeof extraVars !== 'object' || Array.isArray(extraVars)) {
        throw argError(sig, `extraVars must be an object (got ${describe(extraVars)})`);
      }
      const isService = (SERVICES as readonly string[]).includes(what);
      const isFile = what.endsWith('.yml') || what.endsWith('.yaml') || what.includes('/');
      if (!isService && !isFile && !playbookNames().includes(what)) {
        throw argError(sig, `"${what}" is neither a service (${SERVICES.join(', ')}) nor a playbook in ansible/playbooks (${playbookNames().join(', ')})`);
      }
      const st = requireState(s.exp);
      if (st.phase !== 'ready' && st.phase !== 'reserved') {
        throw new GreenraceError('repl.not_ready', `experiment ${s.exp} is not ready (state: ${st.phase}); finish \`entrypoint setup ${s.exp}\` first`);
      }
      return s.task(async (signal) => {
        const [{ planServices, orderedServices }, { serviceExtraVars }, { runPlaybook }, { lockState, readState, writeState }, { missingRoles }] = await Promise.all([
          import('../../services/registry.js'),
          import('../../app/ansible-files.js'),
          import('../../ansible/runner.js'),
          import('../../app/state.js'),
          import('../../services/roles.js'),
        ]);
        const dir = stateDir(s.exp);
        const experiment = s.experiment;
        const services = isService && !experiment.services.includes(what as ServiceName) ? [...experiment.services, what as ServiceName] : experiment.services;
        if (isService) {
          const missing = missingRoles(orderedServices([what as ServiceName]));
          if (missing.length) throw new GreenraceError('repl.no_role', `service ${what} has no Ansible role yet (ansible/roles/${what})`);
        }
        const plan = planServices({ ...experiment, services }, st.platform.hosts);
        const vars = {
          ...serviceExtraVars({ ...experiment, services }, plan),
          ...(isService ? { gr_services: [what] } : {}),
          ...(extraVars as Record<string, unknown>),
        };
        const playbook = isService ? 'setup' : isFile && !isAbsolute(what) ? resolve(what) : what;
        const lock = lockState(s.exp, `entrypoint i ${s.exp}: p('${what}')`, dir);
        try {
          s.print(isService ? `deploying ${what} on ${plan.hosts[what]?.join(', ') || 'no host'}` : `running ${what}`);
          const r = await runPlaybook({ stateDir: dir, playbook, extraVars: vars, progress: (l) => s.print(l), signal });
          if (isService) {
            const cur = readState(dir);
            if (cur) {
              writeState(dir, {
                ...cur,
                services: [...new Set([...cur.services, what as ServiceName])],
                endpoints: { ...cur.endpoints, ...plan.endpoints },
              });
            }
          }
          const hosts = Object.fromEntries(
            Object.entries(r.recap).map(([h, c]) => [h, { ok: c.ok, changed: c.changed, failed: c.failed, unreachable: c.unreachable, skipped: c.skipped }]),
          );
          // The controller's own plays (localhost) are not a host of the cluster.
          const names = Object.keys(hosts).filter((h) => h !== 'localhost');
          const sum: PSummary = {
            playbook: r.playbook,
            ...(isService ? { service: what } : {}),
            ok: names.filter((h) => hosts[h]!.failed === 0 && hosts[h]!.unreachable === 0),
            changed: names.filter((h) => hosts[h]!.changed > 0),
            failed: names.filter((h) => hosts[h]!.failed > 0 || hosts[h]!.unreachable > 0),
            elapsedSeconds: Math.round(r.elapsedMs / 100) / 10,
            logFile: r.logFile,
            hosts,
          };
          return withView(sum, () =>
            [
              `${isService ? `${what} deployed` : `${r.playbook} done`} in ${sum.elapsedSeconds} s: ok ${sum.ok.length}, changed ${sum.changed.length}, failed ${sum.failed.length}`,
              table(
                names.map((h) => [h, String(hosts[h]!.ok), String(hosts[h]!.changed), String(hosts[h]!.failed + hosts[h]!.unreachable)]),
                ['host', 'ok', 'changed', 'failed'],
              ),
            ].join('\n'),
          );
        } finally {
          lock.release();
        }
      });
    },
};
