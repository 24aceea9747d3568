import type { NetToolDef } from '../driver.js';

/** nginx: the static HTTP server of racefiles (Debian's nginx-light). */
export const nginx: NetToolDef = {
  name: 'nginx',
  summary: 'HTTP server (racefiles)',
  programs: { server: ['nginx'], client: [] },
  install: { packages: ['nginx-light'] },
  installHint: 'install the Debian package nginx-light on the hosts',
  defaultPort: 8080,
};
