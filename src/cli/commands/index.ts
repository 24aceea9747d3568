import type { Command } from 'commander';
import { registerConfig } from './config.js';
import { registerLoadgen } from './loadgen.js';
import { registerIngest } from './ingest.js';
import { registerSetup } from './setup.js';
import { registerStatus } from './status.js';
import { registerKilljob } from './killjob.js';
import { registerKubectl } from './kubectl.js';
import { registerI } from './i.js';
import { registerNet } from './net.js';
import { registerRace } from './race.js';
import { registerBaseline } from './baseline.js';
import { registerReport } from './report.js';
import { registerSearch } from './search.js';
import { registerSweep } from './sweep.js';
import { registerK8sDiscovery } from './k8s-discovery.js';

/** Every command of the CLI. Each module registers one; their actions import the app layer lazily. */
export function registerCommands(program: Command): void {
  registerConfig(program);
  registerLoadgen(program);
  registerIngest(program);
  registerSetup(program);
  registerStatus(program);
  registerKilljob(program);
  registerKubectl(program);
  registerI(program);
  registerNet(program);
  registerRace(program);
  registerBaseline(program);
  registerReport(program);
  registerSearch(program);
  registerSweep(program);
  registerK8sDiscovery(program);
}
