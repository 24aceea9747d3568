import type { Command } from 'commander';
import { registerConfig } from './config.js';
import { registerI } from './i.js';

/** Every command of the CLI. Each module registers one; their actions import the app layer lazily. */
export function registerCommands(program: Command): void {
  registerConfig(program);
  registerI(program);
}
