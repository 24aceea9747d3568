/** The g5k platform's file in the state folder (`g5k.json`), also the handle's `data`. No secrets. */
import type { JobRef } from './reservation.js';

export interface G5kState {
  jobName: string;
  apiUrl: string;
  apiTimeout: number;
  /** The Grid'5000 login the jobs belong to. */
  user?: string;
  sites: string[];
  jobs: JobRef[];
  deployed?: boolean;
  environment?: string;
  /** inventory name → fqdn */
  nodes?: Record<string, string>;
  jump?: string;
  /** Inventory names reached at their `address_map` address without the jump host. */
  direct?: string[];
  /** The experiment's ssh control folder (connection sharing; closed by killjob). */
  controlDir?: string;
  /** What the last deployment put on which nodes, in which job(s): a reattaching setup skips them. */
  deployment?: { jobs: JobRef[]; environment: string; nodes: string[] };
  /** Deployments in flight (recorded as soon as created, removed when over): killjob cancels them. */
  deploying?: { site: string; uid: string }[];
  /** The experiment's known_hosts for its nodes. */
  knownHosts?: string;
  /**
   * Submissions under way (server time they began): a setup that stops before the job id is
   * recorded leaves this, and `release` names the jobs of that name submitted since.
   */
  submitting?: { site: string; since: number }[];
}

export const STATE_FILE = 'g5k.json';
