// After `tsc`: make every bin of package.json executable so `npx <bin>` works from the build folder
// (npm sets the mode itself on install). A bin whose file the build did not make is an error.
import { chmodSync, existsSync, readFileSync } from 'node:fs';
const bins = Object.values(JSON.parse(readFileSync('package.json', 'utf8')).bin ?? {});
const missing = bins.filter((f) => !existsSync(f));
if (missing.length) {
  console.error(`build: package.json names bins the build did not produce: ${missing.join(', ')}`);
  process.exit(1);
}
for (const f of bins) chmodSync(f, 0o755);
