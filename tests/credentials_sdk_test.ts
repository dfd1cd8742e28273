// The credentials file shared with the official Python SDK 0.38 (its own
// code, from .venv): a file the SDK wrote is read by ours — `tinker run list`
// and `new RestClient()` with nothing but HOME give the official tools'
// answers — and a file ours wrote is read by the SDK and its CLI.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeTinker } from "../testing/mod.ts";
import { runCli } from "./cli_run.ts";
import {
  loadCredentials,
  saveCredentials,
  serializeCredentials,
} from "../cli/_credentials_file.ts";

const PYTHON = new URL("../.venv/bin/python", import.meta.url).pathname;
const OFFICIAL = new URL("../.venv/bin/tinker", import.meta.url).pathname;
const available = existsSync(PYTHON) && existsSync(OFFICIAL);
if (!available) console.warn(`credentials_sdk_test: skipped — no official SDK at ${PYTHON}`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with only `env` (and PATH); stdin is empty. */
function run(program: string, args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(program, args, {
    env: { PATH: Deno.env.get("PATH") ?? "", COLUMNS: "120", TINKER_TELEMETRY: "0", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr!.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  child.stdin!.end("");
  return new Promise((resolve) =>
    child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }))
  );
}

const python = (code: string, args: string[], env: Record<string, string> = {}) =>
  run(PYTHON, ["-c", code, ...args], env);

const SDK_WRITES = `
import sys
from tinker.lib.credentials import (ApiKeyDetails, ApiKeyOrgDetails, ApiKeyUserDetails,
    GeneratedKey, JsonCredentialStore, ManualKey)
store = JsonCredentialStore(sys.argv[1])
details = ApiKeyDetails(org_details=ApiKeyOrgDetails(name="Fake Org"),
    user_details=ApiKeyUserDetails(email="ada@example.com"))
store.add_key("9", GeneratedKey(key="tml-generated-key", name="tinker-cli-old-laptop \u00e9", details=details))
store.add_key("10", ManualKey(key="tml-old-unverified", name="legacy"))
store.add_key("4242", ManualKey(key=sys.argv[2], name="tinker-cli-fake", note="created in the console", details=details))
store.set_default("4242")
`;

const SDK_READS = `
import sys, json
from tinker.lib.credentials import JsonCredentialStore
from tinker.lib._auth_token_provider import ApiKeyAuthProvider
store = JsonCredentialStore(sys.argv[1])
print(json.dumps({
    "default": store.get_default_key_id(),
    "record": store.get_default_key().model_dump(exclude_none=True),
    "provider_key_matches": ApiKeyAuthProvider.create_from_stored(sys.argv[1]).api_key == sys.argv[2],
}))
`;

const SDK_LISTS = `
import json, tinker
page = tinker.RestClient().list_training_runs(limit=100).result()
print(json.dumps([r.training_run_id for r in page.training_runs]))
`;

Deno.test({
  name:
    "a credentials file written by the official SDK serves our CLI and library as it serves theirs",
  ignore: !available,
  async fn(t) {
    await using fake = await startFakeTinker();
    const home = await mkdtemp(join(tmpdir(), "tinker-sdk-home-"));
    const file = join(home, ".tinker", "credentials.json");
    const env = { HOME: home, TINKER_BASE_URL: fake.url };
    try {
      const wrote = await python(SDK_WRITES, [file, fake.apiKey]);
      assert.equal(wrote.code, 0, wrote.stderr);
      const sdkText = await readFile(file, "utf8");

      // Byte for byte when the ids are in ascending order: a JavaScript object
      // lists integer-like keys (the ids) in ascending order, whatever the file's.
      await t.step("ours reads it and writes back the same bytes", async () => {
        const data = await loadCredentials(file);
        assert.equal(data.default, "4242");
        assert.equal(serializeCredentials(data), sdkText);
        const copy = join(home, "copy", "credentials.json");
        await saveCredentials(copy, data);
        assert.equal(await readFile(copy, "utf8"), sdkText);
      });

      await t.step("tinker run list: our answer is the official CLI's", async () => {
        for (const args of [["-f", "json", "run", "list", "--limit", "0"], ["run", "list"]]) {
          const [theirs, ours] = await Promise.all([
            run(OFFICIAL, args, env),
            runCli(args, { env }),
          ]);
          assert.equal(theirs.code, 0, theirs.stderr);
          assert.equal(ours.code, 0, ours.stderr);
          assert.equal(ours.stdout, theirs.stdout, args.join(" "));
        }
      });

      await t.step("new RestClient() in a script: the SDK's RestClient() answer", async () => {
        const dir = await mkdtemp(join(tmpdir(), "tinker-sdk-script-"));
        const script = join(dir, "list.ts");
        await Deno.writeTextFile(
          script,
          `import { RestClient } from "${new URL("../mod.ts", import.meta.url).href}";
          const page = await new RestClient().listTrainingRuns({ limit: 100 });
          console.log(JSON.stringify(page.training_runs.map((r) => r.training_run_id)));`,
        );
        const [theirs, ours] = await Promise.all([
          python(SDK_LISTS, [], env),
          run(Deno.execPath(), ["run", "-A", "--no-prompt", script], env),
        ]);
        await rm(dir, { recursive: true, force: true });
        assert.equal(theirs.code, 0, theirs.stderr);
        assert.equal(ours.code, 0, ours.stderr);
        assert.deepEqual(JSON.parse(ours.stdout), JSON.parse(theirs.stdout));
        assert.ok(JSON.parse(ours.stdout).length > 0);
      });

      await t.step("our logout, then theirs sees no default", async () => {
        const out = await runCli(["auth", "logout"], { env });
        assert.equal(out.code, 0, out.stderr);
        const check = await python(
          `import sys\nfrom tinker.lib.credentials import JsonCredentialStore\ns = JsonCredentialStore(sys.argv[1])\nprint(s.get_default_key_id(), sorted(s._load().keys))`,
          [file],
        );
        assert.equal(check.stdout, "None ['10', '9']\n", check.stderr);
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "a credentials file written by our CLI is read by the official SDK and CLI",
  ignore: !available,
  async fn() {
    await using fake = await startFakeTinker();
    const home = await mkdtemp(join(tmpdir(), "tinker-ours-home-"));
    const file = join(home, ".tinker", "credentials.json");
    const env = { HOME: home, TINKER_BASE_URL: fake.url };
    try {
      const login = await runCli(["auth", "login"], { env, stdin: `${fake.apiKey}\n` });
      assert.equal(login.code, 0, login.stderr);
      const read = await python(SDK_READS, [file, fake.apiKey]);
      assert.equal(read.code, 0, read.stderr);
      assert.deepEqual(JSON.parse(read.stdout), {
        default: "4242",
        record: {
          type: "manual",
          key: fake.apiKey,
          name: "tinker-cli-fake",
          note: "created in the console",
          details: {
            org_details: { name: "Fake Org" },
            user_details: { email: "ada@example.com" },
          },
        },
        provider_key_matches: true,
      });
      const args = ["-f", "json", "run", "list", "--limit", "3"];
      const [theirs, ours] = await Promise.all([run(OFFICIAL, args, env), runCli(args, { env })]);
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.equal(theirs.stdout, ours.stdout);
      const logout = await run(OFFICIAL, ["auth", "logout"], env);
      assert.equal(logout.code, 0, logout.stderr);
      assert.match(
        logout.stdout,
        /^Removed credential 'tinker-cli-fake'\. The API key is still active\./,
      );
      const status = await runCli(["auth", "status"], { env });
      assert.equal(status.stdout, "Credentials available: no\n");
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
});

const SDK_LISTS_TWICE = `
import tinker
rest = tinker.RestClient()
for _ in range(2):
    rest.list_training_runs(limit=2).result()
print("done")
`;

Deno.test({
  name: "TINKER_CREDENTIAL_CMD runs as often as in the SDK, and its output buys the JWT",
  ignore: !available,
  async fn() {
    const side = async (which: "sdk" | "ours") => {
      await using fake = await startFakeTinker({
        jwtAuth: true,
        clientConfig: { credential_default_source: "credential_cmd" },
      });
      const home = await mkdtemp(join(tmpdir(), `tinker-cmd-${which}-`));
      const env = {
        HOME: home,
        TINKER_BASE_URL: fake.url,
        TINKER_CREDENTIAL_CMD: `echo run >> '${home}/runs'; echo ${fake.apiKey}`,
      };
      try {
        let out: Run;
        if (which === "sdk") out = await python(SDK_LISTS_TWICE, [], env);
        else {
          const script = join(home, "list.ts");
          await Deno.writeTextFile(
            script,
            `import { RestClient } from "${new URL("../mod.ts", import.meta.url).href}";
            const rest = new RestClient();
            for (let i = 0; i < 2; i++) await rest.listTrainingRuns({ limit: 2 });
            console.log("done");`,
          );
          out = await run(Deno.execPath(), ["run", "-A", "--no-prompt", script], env);
        }
        assert.equal(out.code, 0, `${which}: ${out.stderr}`);
        const runs = (await readFile(join(home, "runs"), "utf8")).split("\n").filter(Boolean);
        const byPath = (path: string) => fake.log.filter((r) => r.path === path);
        return {
          runs: runs.length,
          config: byPath("/api/v1/client/config").map((r) => r.headers["x-api-key"]),
          exchange: byPath("/api/v1/auth/token").map((r) => r.headers["x-api-key"]),
          calls: byPath("/api/v1/training_runs").map((r) => r.headers["x-api-key"]?.slice(0, 3)),
          key: fake.apiKey,
        };
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    };
    const sdk = await side("sdk");
    const ours = await side("ours");
    assert.equal(sdk.runs, 2);
    assert.deepEqual(ours, sdk);
    assert.deepEqual(ours.exchange, [ours.key]);
    assert.deepEqual(ours.calls, ["eyJ", "eyJ"]);
  },
});
