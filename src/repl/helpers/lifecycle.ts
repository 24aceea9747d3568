import type { Session } from '../session.js';
import { table, withView } from '../display.js';
import type { HelperDef } from './types.js';

export const status: HelperDef = {
  name: 'status',
  kind: 'function',
  signature: 'status()',
  summary: 'the cluster: phase, hosts (reachability, CPU, memory), services, endpoints',
  details: ['The same report as `entrypoint status <exp>` (hosts are probed over SSH).', 'Returns the report object.'],
  examples: ['status()', '(await status()).endpoints'],
  make: (s: Session) =>
    function status() {
      return s.task(async () => {
        const { status: appStatus } = await import('../../app/status.js');
        const r = await appStatus(s.exp);
        return withView(r, () =>
          [
            `${r.experiment}: ${r.phase}${r.failedPhase ? ` during ${r.failedPhase}` : ''} on the ${r.platform} platform`,
            r.hosts.length
              ? table(
                  r.hosts.map((h) => [
                    h.roles.join(','),
                    h.name,
                    h.address,
                    h.reachable === undefined ? '-' : h.reachable ? 'yes' : `no${h.detail ? ` (${h.detail})` : ''}`,
                    h.metadata ? `${h.metadata.cpu_cores}c ${(h.metadata.memory_mb / 1024).toFixed(1)} GiB` : '',
                  ]),
                  ['role', 'host', 'address', 'reachable', 'size'],
                )
              : '(no hosts)',
            r.services.length ? `services: ${r.services.map((x) => `${x.name} on ${x.hosts.join(',')}`).join('; ')}` : 'services: none',
            ...Object.entries(r.endpoints).map(([k, v]) => `${k}: ${v}`),
            ...r.warnings.map((w) => `warning: ${w}`),
          ].join('\n'),
        );
      }, { abandonOnAbort: true });
    },
};

export const killjob: HelperDef = {
  name: 'killjob',
  kind: 'function',
  signature: 'killjob()',
  summary: 'destroy the services, release the hosts, clear the state (asks first)',
  details: [
    'The same as `entrypoint killjob <exp>`, after a y/N confirmation (no answer, e.g. piped input',
    'that ends, means no). The shell stays open with the experiment loaded.',
  ],
  examples: ['killjob()'],
  make: (s: Session) =>
    function killjob() {
      return s.task(async (signal) => {
        const yes = await s.confirm(`destroy the services and release every host of ${s.exp}? [y/N] `);
        if (!yes) {
          s.print('killjob: nothing done');
          return undefined;
        }
        const { killjob: appKilljob } = await import('../../app/killjob.js');
        const r = await appKilljob(s.exp, { progress: (l) => s.print(l), signal });
        return withView(r, () =>
          r.didSomething
            ? `killjob ${r.experiment}: released ${r.hosts} host${r.hosts === 1 ? '' : 's'}${r.destroyed.length ? `, destroyed ${r.destroyed.join(', ')}` : ''} in ${(r.elapsedMs / 1000).toFixed(1)} s` +
              r.warnings.map((w) => `\nwarning: ${w}`).join('')
            : `killjob ${r.experiment}: nothing to do`,
        );
      });
    },
};
