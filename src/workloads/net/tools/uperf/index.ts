import { RunError } from '../../../../core/errors.js';
import { shJoin } from '../../../../core/shell.js';
import type { NetToolDef, PairPlan } from '../driver.js';
import { parseUperf } from './parse.js';

const profilePath = (plan: PairPlan): string => `${plan.clientDir}/uperf-profile.xml`;

/**
 * uperf with the stream profile of the Arcaflow workflow (protocol, nthreads, message bytes,
 * runtime): `uperf -s -P <port>` on the server, `uperf -v -a -R -i 1 -m profile.xml -P <port>` on the client.
 */
export const uperf: NetToolDef = {
  name: 'uperf',
  summary: 'throughput with a uperf profile (built from source)',
  programs: { server: ['uperf'], client: ['uperf'] },
  install: { installer: 'uperf' },
  installHint: 'uperf is not in Debian: build uperf/uperf from source (autotools) on the hosts and put uperf on PATH (net-tools.yml does it with net.uperf.source)',
  defaultPort: 20000,
  pod: { unavailable: 'no uperf binary can be had for the cluster\'s images here (uperf is not in Debian, and its sources are on GitHub, which this machine cannot reach); use --tool iperf3, or run uperf on runtime: host with net.uperf.source' },
  driver: {
    serverCommand: (p) => shJoin(['uperf', '-s', '-P', String(p.port)]),
    clientCommand: (p, plan) => shJoin(['uperf', '-v', '-a', '-R', '-i', '1', '-m', profilePath(plan), '-P', String(p.port)]),
    async prepare(ex, p, plan) {
      // The profile template (Nunjucks) is loaded when a uperf run needs it.
      const { renderUperfProfile } = await import('./profile.js');
      const xml = renderUperfProfile({ name: 'stream', remotehost: plan.serverAddress, protocol: p.protocol, nthreads: p.streams, bytes: p.messageSize ?? 64, duration: p.duration });
      try {
        await ex.put(plan.client, profilePath(plan), xml);
      } catch (e) {
        throw new RunError('net.uperf.profile', `cannot write the uperf profile on ${plan.client.name}`, { cause: e });
      }
    },
    parse: (out, p, where) => parseUperf(out, where, p.protocol),
  },
  parse: (t, w) => parseUperf(t, w),
};
