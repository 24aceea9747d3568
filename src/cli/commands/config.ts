import type { Command } from 'commander';
import { collect } from '../options.js';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('print the effective, validated configuration of an experiment (YAML)')
    .argument('<exp>', 'experiment name (experiments/<exp>.yaml) or path to a YAML file')
    .option('--set <key.path=value>', 'override a configuration key (repeatable)', collect, [])
    .option('--json', 'print JSON instead of YAML')
    .action(async (exp: string, opts: { set: string[]; json?: boolean }) => {
      const { loadExperiment } = await import('../../app/config.js');
      const { experiment, files } = loadExperiment(exp, { set: opts.set });
      if (opts.json) {
        process.stdout.write(JSON.stringify(experiment, null, 2) + '\n');
        return;
      }
      const yaml = (await import('js-yaml')).default;
      process.stdout.write(`# ${files.join(' <- ')}\n` + yaml.dump(experiment, { lineWidth: 120, noRefs: true }));
    });
}
