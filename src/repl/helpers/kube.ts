import { splitArgs } from '../../core/shell.js';
import { argError, type Session } from '../session.js';
import { withView } from '../display.js';
import type { HelperDef } from './types.js';

const SIG = 'k(args, opts?)';

/** kubectl's arguments from `k('get pods -A')` or `k(['get', 'pods', '-A'])`. */
function kubectlArgs(args: unknown): string[] {
  if (typeof args === 'string') return splitArgs(args);
  if (Array.isArray(args) && args.every((a) => typeof a === 'string')) return args as string[];
  throw argError(SIG, `args must be a string ("get pods -A") or a list of strings (got ${Array.isArray(args) ? 'a list with non-strings' : typeof args})`);
}

const wantsJson = (a: string[]): boolean => a.some((x, i) => x === '-ojson' || x === '--output=json' || ((x === '-o' || x === '--output') && a[i + 1] === 'json'));

export const k: HelperDef = {
  name: 'k',
  kind: 'function',
  signature: SIG,
  summary: "kubectl on the experiment's Kubernetes cluster (runtime: k3s), with its kubeconfig",
  details: [
    "args: kubectl's arguments as one string (split as a shell would) or a list of strings.",
    'opts: { input: text for stdin (k("apply -f -", { input: manifest })), timeout: seconds (default 60) }.',
    'Returns the output as text, or parsed when asked with -o json. A non-zero exit is an error',
    "carrying kubectl's message. Ctrl-C stops kubectl. The same kubectl as `entrypoint kubectl <exp> -- …`.",
  ],
  examples: ["k('get nodes -o wide')", "(await k('get pods -A -o json')).items.length", "k('apply -f -', { input: manifest })"],
  make: (s: Session) =>
    function k(args: unknown, opts: unknown = {}) {
      const a = kubectlArgs(args);
      if (typeof opts !== 'object' || opts === null) throw argError(SIG, 'opts must be an object like { input, timeout }');
      const o = opts as { input?: unknown; timeout?: unknown };
      if (o.input !== undefined && typeof o.input !== 'string') throw argError(SIG, 'opts.input must be text');
      if (o.timeout !== undefined && (typeof o.timeout !== 'number' || !(o.timeout > 0))) throw argError(SIG, 'opts.timeout must be a number of seconds above 0');
      return s.task(async (signal) => {
        const { clusterOf, kubectlCapture } = await import('../../app/kubernetes.js');
        const { kubeconfig } = clusterOf(s.exp);
        const r = await kubectlCapture(kubeconfig, a, {
          ...(o.input !== undefined ? { input: o.input as string } : {}),
          timeoutMs: ((o.timeout as number | undefined) ?? 60) * 1000,
          signal,
        });
        if (r.exitCode !== 0) {
          const { GreenraceError } = await import('../../core/errors.js');
          throw new GreenraceError('k8s.kubectl', `kubectl ${a.join(' ')}: ${r.timedOut ? 'timed out' : r.stderr.trim() || `exit ${r.exitCode}`}`);
        }
        if (wantsJson(a)) {
          const v = JSON.parse(r.stdout) as object;
          return withView(v, () => r.stdout);
        }
        return r.stdout;
      });
    },
};
