import type { NetToolDef } from '../driver.js';
import { parseWrk } from './parse.js';

/** wrk: HTTP load from the client side (racefile laps); its report is parsed by collectors. */
export const wrk: NetToolDef = {
  name: 'wrk',
  summary: 'HTTP load generator (racefiles)',
  programs: { server: [], client: ['wrk'] },
  install: { packages: ['wrk'] },
  installHint: 'install the Debian package wrk on the hosts',
  parse: parseWrk,
};
