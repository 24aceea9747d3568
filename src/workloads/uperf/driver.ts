import { RunError } from '../../core/errors.js';
import { shJoin } from '../../core/shell.js';
import type { HostExec } from '../net/exec.js';
import type { NetDriver, NetParams, PairPlan } from '../net/driver.js';
import { putFile } from '../net/ssh-exec.js';
import { parseUperf } from './parse.js';
import { renderUperfProfile } from './profile.js';

const profilePath = (plan: PairPlan): string => `${plan.clientDir}/uperf-profile.xml`;

/**
 * uperf with the stream profile of the Arcaflow workflow (protocol, nthreads, message bytes,
 * runtime): `uperf -s -P <port>` on the server, `uperf -v -a -R -i 1 -m profile.xml -P <port>` on the client.
 */
export const uperfDriver: NetDriver = {
  tool: 'uperf',
  binaries: { server: ['uperf'], client: ['uperf'] },
  installHint: 'uperf is not in Debian: build uperf/uperf from source (autotools) on the hosts and put uperf on PATH',
  serverCommand: (p) => shJoin(['uperf', '-s', '-P', String(p.port)]),
  clientCommand: (p, plan) => shJoin(['uperf', '-v', '-a', '-R', '-i', '1', '-m', profilePath(plan), '-P', String(p.port)]),
  async prepare(exec: HostExec, p: NetParams, plan: PairPlan) {
    const xml = renderUperfProfile({
      name: 'stream',
      remotehost: plan.serverAddress,
      protocol: p.protocol,
      nthreads: p.streams,
      bytes: p.messageSize ?? 64,
      duration: p.duration,
    });
    try {
      await putFile(exec, plan.client, profilePath(plan), xml);
    } catch (e) {
      throw new RunError('net.uperf.profile', `cannot write the uperf profile on ${plan.client.name}`, { cause: e });
    }
  },
  parse: (out, p, where) => parseUperf(out, where, p.protocol),
};
