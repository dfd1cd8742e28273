import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { argumentTokens } from "./_args.ts";

const OPTIONS = {
  format: { type: "string", short: "f" },
  yes: { type: "boolean", short: "y" },
  limit: { type: "string" },
  all: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
} as const;

const POOL = [
  "-f",
  "json",
  "-fjson",
  "-y",
  "-yf",
  "-yfjson",
  "--limit",
  "5",
  "--limit=7",
  "--all",
  "--",
  "run",
  "list",
  "-",
  "--x",
  "-q",
  "-vy",
  "--format",
  "--format=table",
  "x=y",
  "-v",
  "",
];

Deno.test("argumentTokens() gives node:util parseArgs's tokens for random argument lists", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let n = 0; n < 5000; n++) {
    const args = Array.from(
      { length: Math.floor(random() * 7) },
      () => POOL[Math.floor(random() * POOL.length)]!,
    );
    const expected = parseArgs({
      args,
      options: OPTIONS,
      strict: false,
      allowPositionals: true,
      tokens: true,
    }).tokens;
    assert.deepEqual(
      JSON.parse(JSON.stringify(argumentTokens(args, OPTIONS as never))),
      JSON.parse(JSON.stringify(expected)),
      JSON.stringify(args),
    );
  }
});
