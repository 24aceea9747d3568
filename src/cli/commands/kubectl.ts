import type { Command } from 'commander';

export function registerKubectl(program: Command): void {
  program
    .command('kubectl')
    .description("run kubectl on an experiment's Kubernetes cluster (runtime: k3s) with its kubeconfig: entrypoint kubectl <exp> -- get pods -A")
    .argument('<exp>', 'experiment name')
    .argument('[args...]', "kubectl's arguments (after --, so that its options are not taken for entrypoint's)")
    .allowUnknownOption()
    .action(async (exp: string, args: string[]) => {
      const { kubectlPassthrough } = await import('../../app/kubernetes.js');
      process.exitCode = await kubectlPassthrough(exp, args);
    });
}
