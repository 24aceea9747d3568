#!/usr/bin/env node
// The `killjob` bin (package.json): `entrypoint killjob <exp> …` under its own name, same code.
import { buildKilljobProgram, main } from '../src/cli/main.js';

main(process.argv, buildKilljobProgram).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
