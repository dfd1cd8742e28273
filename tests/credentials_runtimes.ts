// The stored key and TINKER_CREDENTIAL_CMD under Bun and Node, where the
// library reaches the file and child processes through
// `process.getBuiltinModule` (no `node:*` import of its own). Prints a
// Deno-style summary line; exits non-zero on a failure.
//
//   npx -y bun@1.4.5 run tests/credentials_runtimes.ts
//   npx -y bun@1.4.5 build tests/credentials_runtimes.ts --target=node --outfile=/tmp/c.mjs && node /tmp/c.mjs

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { RestClient, TinkerError } from "../mod.ts";
import { FAKE_IDS, spawnFakeTinker, startFakeTinker } from "../testing/mod.ts";

const bun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
// `.result()` blocks this thread: the fake must then run in another process.
const fake = bun
  ? await spawnFakeTinker({ jwtAuth: true })
  : await startFakeTinker({ jwtAuth: true });
const home = await mkdtemp(join(tmpdir(), "tinker-rt-home-"));
await mkdir(join(home, ".tinker"), { recursive: true });
await writeFile(
  join(home, ".tinker", "credentials.json"),
  JSON.stringify({
    version: 1,
    default: "1",
    keys: { "1": { type: "manual", key: fake.apiKey, name: "laptop" } },
  }),
  { mode: 0o600 },
);
const client = (env: Record<string, string>, timeoutMs?: number) =>
  new RestClient({ baseUrl: fake.url, env: { HOME: home, ...env }, maxRetries: 0, timeoutMs });
const run = FAKE_IDS.run;

const checks: [string, () => Promise<void>][] = [
  ["the stored default key is found", async () => {
    assert.equal((await client({}).getTrainingRun(run)).training_run_id, run);
  }],
  ["TINKER_CREDENTIAL_CMD is run for the credential", async () => {
    const rest = client({ TINKER_CREDENTIAL_CMD: `echo ${fake.apiKey}` });
    assert.equal((await rest.getTrainingRun(run)).training_run_id, run);
  }],
  ["a hanging command is stopped at the timeout", async () => {
    const rest = client({ TINKER_CREDENTIAL_CMD: "sleep 20; echo tml-x" }, 300);
    const error = await rest.getTrainingRun(run).catch((e) => e);
    assert.ok(error instanceof TinkerError);
    assert.match(error.message, /did not finish within 300 ms/);
  }],
  ["a credential that cannot go in a header is refused before any request", async () => {
    const sent = (await fake.requests()).length;
    const error = await client({ TINKER_CREDENTIAL_CMD: "printf '%s\\n%s\\n' tml-x second" })
      .getTrainingRun(run).catch((e) => e);
    assert.ok(error instanceof TinkerError, String(error));
    assert.match(error.message, /cannot be sent in an HTTP header \(2 lines/);
    assert.equal((await fake.requests()).length, sent);
  }],
  ["a failing command says how it failed", async () => {
    const error = await client({ TINKER_CREDENTIAL_CMD: "exit 5" }).getTrainingRun(run)
      .catch((e) => e);
    assert.match(String(error?.message), /empty credential; it exited with status 5/);
  }],
  ["an edge-like runtime (no file or process access) says what to set", async () => {
    const proc = process as unknown as { getBuiltinModule?: unknown };
    const saved = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    try {
      const stored = await client({}).getTrainingRun(run).catch((e) => e);
      assert.match(
        String(stored?.message),
        /^The API key is missing: pass apiKey to the client, set the TINKER_API_KEY environment variable, or store a key with `tinker auth login` \(the stored key was not looked for: this runtime has neither Deno's file API nor process\.getBuiltinModule/,
      );
      const cmd = await client({ TINKER_CREDENTIAL_CMD: "echo tml-x" }).getTrainingRun(run)
        .catch((e) => e);
      assert.match(
        String(cmd?.message),
        /^TINKER_CREDENTIAL_CMD is set, but this runtime cannot run commands; grant that, or pass apiKey/,
      );
    } finally {
      proc.getBuiltinModule = saved;
    }
  }],
];
if (bun) {
  checks.push(["with .result(), the file and the command too", () => {
    assert.equal(client({}).getTrainingRun(run).result().training_run_id, run);
    const rest = client({ TINKER_CREDENTIAL_CMD: `echo ${fake.apiKey}` });
    assert.equal(rest.getTrainingRun(run).result().training_run_id, run);
    assert.throws(
      () => client({ TINKER_CREDENTIAL_CMD: "sleep 20" }, 300).getTrainingRun(run).result(),
      /did not finish within 300 ms/,
    );
    return Promise.resolve();
  }]);
}

let passed = 0;
let failed = 0;
for (const [name, check] of checks) {
  try {
    await check();
    passed++;
    console.log(`${name} ... ok`);
  } catch (error) {
    failed++;
    console.log(`${name} ... FAILED\n  ${(error as Error)?.stack ?? error}`);
  }
}
await fake.close();
await rm(home, { recursive: true, force: true });
const runtime = bun ? `Bun ${process.versions.bun}` : `Node ${process.version}`;
console.log(
  `\n${failed === 0 ? "ok" : "FAILED"} | ${passed} passed | ${failed} failed (${runtime})`,
);
process.exit(failed === 0 ? 0 : 1);
