/** Every run command the same way: a context for the workload (loaded once, checked once), its run, its connections closed. */
import type { Workload } from '../workloads/contract.js';
import { createContext, type ContextOptions } from './context.js';

export async function runWorkload<S, A, R>(w: Workload<S, A, R>, args: A, o: ContextOptions): Promise<R> {
  const ctx = createContext(w, args, o);
  try {
    return await w.run(ctx);
  } finally {
    await ctx.close();
  }
}

export type { ContextOptions };
