// Runs the whole test suite: the lint (`npm run lint`: eslint with typescript-eslint; the import
// direction is a unit test) first, then vitest (unit, then integration on a real local cluster), and
// ends with a plain summary line "N passed, N failed[, N skipped]" that any CI can read; the lint
// counts as one check there. Extra arguments go to vitest (e.g. `npm test -- --project unit`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const lint = spawnSync('npx', ['eslint', '.'], { stdio: 'inherit' });
const lintOk = lint.status === 0;
console.log(lintOk ? 'lint: no problems' : 'lint: problems found (npm run lint)');

const out = join(mkdtempSync(join(tmpdir(), 'gr-tests-')), 'results.json');
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit' });
let code = r.status ?? 1;
if (!lintOk) code = code || 1;
if (existsSync(out)) {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  // A file that failed outside its tests (a hook, an import) counts as one failure more.
  const failedSuites = (j.testResults ?? []).filter(
    (t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  console.log(`\n${j.numPassedTests + (lintOk ? 1 : 0)} passed, ${j.numFailedTests + failedSuites + (lintOk ? 0 : 1)} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (j.numTotalTests === 0) code = code || 1;
} else {
  console.log(`\n${lintOk ? 1 : 0} passed, ${lintOk ? 1 : 2} failed`);
  code = code || 1;
}
process.exit(code);
