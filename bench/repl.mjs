#!/usr/bin/env node
// Start time of the interactive shell with a loaded experiment: `entrypoint i <exp>` from spawn to
// its first prompt (config loaded and validated, state read, REPL ready), then Ctrl-D (end of input).
// Usage: npm run build (or npx tsc -p tsconfig.json), then: node bench/repl.mjs [exp] [runs]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const entry = join(repo, 'dist', 'entrypoint.js');
if (!existsSync(entry)) {
  console.error('build first: npx tsc -p tsconfig.json');
  process.exit(2);
}
const exp = process.argv[2] ?? 'quickstart';
const runs = Number(process.argv[3] ?? 10);
const home = mkdtempSync(join(tmpdir(), 'rpl-bench-'));

function once() {
  return new Promise((resolveRun, reject) => {
    const t0 = process.hrtime.bigint();
    let prompt;
    const child = spawn(process.execPath, [entry, 'i', exp, '--no-history'], {
      cwd: repo,
      env: { ...process.env, GREENRACE_STATE_DIR: join(home, 'state'), NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (prompt === undefined && /\]> $/.test(out)) {
        prompt = Number(process.hrtime.bigint() - t0) / 1e6;
        child.stdin.end();
      }
    });
    child.on('exit', (code) => {
      const total = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0 || prompt === undefined) reject(new Error(`exit ${code}; output:\n${out}`));
      else resolveRun({ prompt, total });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = [];
for (let i = 0; i < runs; i++) results.push(await once());
rmSync(home, { recursive: true, force: true });
const p = results.map((r) => r.prompt);
const t = results.map((r) => r.total);
console.log(`entrypoint i ${exp}: ${runs} runs`);
console.log(`  to first prompt: median ${median(p).toFixed(0)} ms (min ${Math.min(...p).toFixed(0)}, max ${Math.max(...p).toFixed(0)})`);
console.log(`  start + exit:    median ${median(t).toFixed(0)} ms`);
