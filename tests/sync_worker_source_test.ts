// `_worker_source.ts` is generated from `_worker.ts` and everything it
// imports (the Engine, requests, errors): fail while it is stale.

import assert from "node:assert/strict";
import { generate, OUTPUT_PATH } from "../scripts/gen_worker.ts";
import { WORKER_SOURCE } from "../internal/_worker_source.ts";

Deno.test("sync: _worker_source.ts is up to date (run `deno task gen:worker`)", async () => {
  const fresh = await generate();
  const committed = await Deno.readTextFile(OUTPUT_PATH);
  assert.ok(
    fresh === committed,
    "_worker_source.ts is stale: run `deno task gen:worker` and commit the result",
  );
});

Deno.test("sync: the worker source is a self-contained module", () => {
  assert.ok(WORKER_SOURCE.length > 1000);
  assert.doesNotMatch(WORKER_SOURCE, /\bimport\s*[\s{*"'(]|\brequire\(/);
  assert.ok(!WORKER_SOURCE.includes("Deno."), "the worker must not touch runtime APIs");
});
