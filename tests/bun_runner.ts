// Runs `Deno.test` files under Bun (or Node): a small stand-in for the parts
// of `Deno` the library's end-to-end tests use (`Deno.test` with `t.step`,
// `Deno.env`, `Deno.readTextFile`). Tests that need more set
// `ignore: Deno.permissions === undefined`.
//
//   npx -y bun@1.4.5 run tests/bun_runner.ts rest_client_test.ts ...

import { readFile } from "node:fs/promises";
import process from "node:process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Fn = (t: Context) => unknown;
interface Definition {
  name: string;
  fn: Fn;
  ignore?: boolean;
}
interface Context {
  name: string;
  step(name: string, fn: Fn): Promise<boolean>;
}

const tests: Definition[] = [];
(globalThis as Record<string, unknown>).Deno = {
  test(a: string | Definition, b?: Fn) {
    tests.push(typeof a === "string" ? { name: a, fn: b! } : a);
  },
  env: {
    get: (k: string) => process.env[k],
    set: (k: string, v: string) => void (process.env[k] = v),
    delete: (k: string) => void delete process.env[k],
  },
  readTextFile: (path: string | URL) =>
    readFile(path instanceof URL ? fileURLToPath(path) : path, "utf8"),
};

let passed = 0;
let failed = 0;
let ignored = 0;

async function runOne(name: string, fn: Fn, depth: number): Promise<boolean> {
  const pad = "  ".repeat(depth);
  const started = performance.now();
  let stepFailed = false;
  const context: Context = {
    name,
    async step(stepName, stepFn) {
      const ok = await runOne(stepName, stepFn, depth + 1);
      if (!ok) stepFailed = true;
      return ok;
    },
  };
  try {
    await fn(context);
    if (stepFailed) throw new Error("a step failed");
    console.log(`${pad}${name} ... ok (${Math.round(performance.now() - started)}ms)`);
    return true;
  } catch (error) {
    console.log(`${pad}${name} ... FAILED\n${pad}  ${String((error as Error)?.stack ?? error)}`);
    return false;
  }
}

for (const file of process.argv.slice(2)) {
  tests.length = 0;
  await import(pathToFileURL(resolve(file)).href);
  console.log(`running ${tests.length} tests from ${file}`);
  for (const test of tests) {
    if (test.ignore) {
      ignored++;
      console.log(`${test.name} ... ignored`);
      continue;
    }
    if (await runOne(test.name, test.fn, 0)) passed++;
    else failed++;
  }
}
const runtime = "Bun" in globalThis ? "Bun" : "Node";
console.log(
  `\n${
    failed === 0 ? "ok" : "FAILED"
  } | ${passed} passed | ${failed} failed | ${ignored} ignored (${runtime})`,
);
process.exit(failed === 0 ? 0 : 1);
