#!/usr/bin/env -S npx tsx
/**
 * `sial`: the operator CLI (`npx tsx bin/sial.ts ...`, or `sial ...` once the package is linked).
 * Commands live in bin/cli/, one module each; this file only connects them to the process.
 */
import { runCli } from './cli/main';

runCli(process.argv.slice(2), {
  io: { out: (line) => console.log(line), err: (line) => console.error(line) },
  ...(process.stdout.isTTY === true && process.env.CI !== 'true' ? { terminal: process.stdout } : {}),
  env: process.env,
  clock: () => new Date(),
})
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
