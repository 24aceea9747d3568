// After `tsc`: make the CLI's entry file executable so `npx entrypoint` and the package bin work.
import { chmodSync, existsSync } from 'node:fs';
for (const f of ['dist/entrypoint.js']) if (existsSync(f)) chmodSync(f, 0o755);
