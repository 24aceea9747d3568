import { GreenraceError } from '../../core/errors.js';
import { SERVICES, type ServiceName } from '../../core/types.js';
import { argError, type Session } from '../session.js';
import { describe } from '../overrides.js';
import { playbookNames, requireState } from '../cluster.js';
import { table, withView } from '../display.js';
import type { HelperDef } from './types.js';
import type { DeploySummary } from '../../app/deploy.js';

/** What p() returns: the app's per-host summary. */
export type PSummary = DeploySummary;

export const p: HelperDef = {
  name: 'p',
  kind: 'function',
  signature: 'p(playbookOrService, extraVars?)',
  summary: 'deploy one service (its Ansible role) or run a playbook, with progress; hosts ok/changed/failed',
  details: [
    `A service (${SERVICES.join(', ')}) is deployed on its hosts by setup.yml with only that service's play`,
    "(an exporter also re-runs a deployed Prometheus' play so it is scraped), using the service registry",
    '(hosts, ports, scrape targets); it is recorded in the state so that killjob removes it.',
    'Anything else names a playbook under ansible/playbooks (or a path to a .yml file) run with',
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
        const app = await import('../../app/deploy.js');
        if (isService && app.servicesWithoutRole([what as ServiceName]).length) {
          throw new GreenraceError('repl.no_role', `service ${what} has no Ansible role yet (ansible/roles/${what})`);
        }
        const opts = { extraVars: extraVars as Record<string, unknown>, progress: (l: string) => s.print(l), signal, command: `entrypoint i ${s.exp}: p('${what}')` };
        const sum: PSummary = isService ? await app.deployServices(s.experiment, [what], opts) : await app.runExperimentPlaybook(s.experiment, what, opts);
        const hosts = sum.hosts;
        const names = Object.keys(hosts).filter((h) => h !== 'localhost');
        return withView(sum, () =>
          [
            `${isService ? `${what} deployed` : `${sum.playbook} done`} in ${sum.elapsedSeconds} s: ok ${sum.ok.length}, changed ${sum.changed.length}, failed ${sum.failed.length}`,
            table(
              names.map((h) => [h, String(hosts[h]!.ok), String(hosts[h]!.changed), String(hosts[h]!.failed + hosts[h]!.unreachable)]),
              ['host', 'ok', 'changed', 'failed'],
            ),
          ].join('\n'),
        );
      });
    },
};
