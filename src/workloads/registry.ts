/**
 * The workloads: one line each. The CLI, the shell (helpers, overrides, `i --load …`) and the
 * experiment schema (their sections) find them here. Adding a workload: its folder with an
 * `index.ts` exporting a Workload (src/workloads/contract.ts), and one line below.
 */
import type { Workload } from './contract.js';
import { ingest } from './ingest/index.js';
import { net } from './net/index.js';
import { matrix } from './matrix/index.js';
import { race } from './race/index.js';
import { baseline } from './baseline/index.js';

export const WORKLOADS = [ingest, net, matrix, race, baseline] as const;

export type WorkloadName = (typeof WORKLOADS)[number]['name'];

type Sections<W> = W extends { section: { key: infer K extends string; schema: infer S } } ? { [k in K]: S } : never;
type Merge<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The experiment sections the workloads own, by key (assembled into the experiment schema). */
export const WORKLOAD_SECTIONS = Object.fromEntries(
  WORKLOADS.flatMap((w) => ('section' in w && w.section ? [[w.section.key, w.section.schema]] : [])),
) as Merge<Sections<(typeof WORKLOADS)[number]>>;

/** A workload by name (typed as the generic contract; each module exports its own precise type). */
export function workload(name: string): Workload<unknown, unknown, unknown> {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`internal: no workload named ${name}`);
  return w as unknown as Workload<unknown, unknown, unknown>;
}
