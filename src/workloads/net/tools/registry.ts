/**
 * The network tools: the ONLY list of tool names. Config enums (`net.tool`, `net.matrix.tool`,
 * racefile collectors' `parse`), CLI choices, racefile `requires` → packages and the shell's
 * helpers all derive from it. Adding a tool: its folder (`<name>/index.ts` exporting a NetToolDef)
 * and one line here.
 */
import type { NetToolDef, ToolInstall } from './driver.js';
import { iperf3 } from './iperf3/index.js';
import { uperf } from './uperf/index.js';
import { netperf } from './netperf/index.js';
import { sockperf } from './sockperf/index.js';
import { wrk } from './wrk/index.js';
import { nginx } from './nginx/index.js';

export const TOOLS: readonly NetToolDef[] = [iperf3, uperf, netperf, sockperf, wrk, nginx];

/** Names of the tools that pass `pred` (a non-empty list, as zod enums want). */
const names = (pred: (t: NetToolDef) => boolean): [string, ...string[]] => TOOLS.filter(pred).map((t) => t.name) as [string, ...string[]];

/** Tools that measure between a client and a server (`net --tool`). */
export const MEASURE_TOOLS = names((t) => t.driver !== undefined);
/** Tools that give latency percentiles (the latency matrix). */
export const LATENCY_TOOLS = names((t) => t.driver !== undefined && t.latency === true);
/** Tools whose report a racefile collector can parse. */
export const PARSE_TOOLS = names((t) => t.parse !== undefined);

export function tool(name: string): NetToolDef {
  const t = TOOLS.find((x) => x.name === name);
  if (!t) throw new Error(`internal: unknown network tool ${name}`);
  return t;
}

/** The tool that provides a program (`netserver` → netperf), if greenrace knows it. */
export function toolOfProgram(program: string): NetToolDef | undefined {
  return TOOLS.find((t) => t.programs.server.includes(program) || t.programs.client.includes(program));
}

/** How to install a program, from its tool. */
export function installOf(program: string): ToolInstall | undefined {
  return toolOfProgram(program)?.install;
}
