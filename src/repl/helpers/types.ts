import type { Session } from '../session.js';

/** One thing the shell offers: a function (`sh`) or a read-only value (`cfg`). */
export interface HelperDef {
  name: string;
  kind: 'function' | 'value';
  /** How it is called, e.g. `sh(role, command, opts?)`. */
  signature: string;
  /** One line for `help()`. */
  summary: string;
  /** Lines for `help(name)`: arguments, what it returns, what Ctrl-C does. */
  details: string[];
  examples: string[];
  /** For functions: the function itself, bound to the session. */
  make?: (s: Session) => (...args: unknown[]) => unknown;
  /** For values: a getter. */
  get?: (s: Session) => unknown;
}
