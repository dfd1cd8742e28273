// Differential test: the official Python CLI (`.venv/bin/tinker`, 0.38) and
// ours, both with `-f json` against the same standalone fake server; the
// parsed JSON of every command both have must be equal. Skipped with a
// message when the official CLI is not installed.
//
// Deliberate differences (everything else must match):
const DELIBERATE: Record<string, string> = {
  "exit codes":
    "the official CLI exits 1 for every error; ours uses distinct codes (1 API, 3 auth, 4 not found, 5 network, 6 input, 7 local); TINKER_CLI_EXIT_CODES=official restores 1",
  "checkpoint download":
    "both export weights/ through a training session; the requests are compared in order and body by body, except the bootstrap (each client bootstraps lazily here, before its first call: the REST client's after the export) and the SDK's telemetry; ids of the new session, model and futures are normalized",
  "session export-trace --url-only":
    "the signed URL carries the signing time; compared without X-Goog-Date/X-Goog-Signature",
  "invalid tinker path messages":
    "ours say what is wrong with the path (e.g. 'expected 3 segments'); the official repeats the path",
  "connection errors":
    "the official retries ~5 minutes and prints 'Connection error.'; ours retries --max-retries times and names the request",
  "missing API key":
    "the official says 'Failed to connect to Tinker API: …' (exit 1); ours 'Missing API key: …' (exit 3)",
  "checkpoint delete with failures":
    "the official exits 0 when deletions failed; ours prints the same summary, then exits 1",
  "negative --limit":
    "the official reads --limit -5 as 'all'; ours refuses it as a usage error (exit 2)",
  "server text on a terminal":
    "ours shows control and bidi characters of server strings as \\uXXXX (tables, errors, prompts, progress, CSV on a TTY); the official prints them raw",
};

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_IDS, spawnFakeTinker } from "../testing/mod.ts";
import { type CliResult, runCli } from "./cli_run.ts";
import { CLI_DOWNLOAD_FLOW } from "../conformance/deliberate.ts";

const OFFICIAL = new URL("../.venv/bin/tinker", import.meta.url).pathname;
const available = existsSync(OFFICIAL);
if (!available) {
  console.warn(`cli_diff_test: skipped — the official CLI is not installed at ${OFFICIAL}`);
}

function official(args: string[], env: Record<string, string>): Promise<CliResult> {
  const child = spawn(OFFICIAL, args, {
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

const RUN = FAKE_IDS.run;
const EXTERNAL = (FAKE_IDS as unknown as { externalCheckpointPath: string }).externalCheckpointPath;
/**
 * The export flow's API requests in order, ids normalized: no bootstrap,
 * telemetry or heartbeats (timer-driven).
 */
function exportRequests(log: { method: string; path: string; body: string }[]): string[] {
  const skip = /^\/api\/v1\/(client\/|telemetry|session_heartbeat)/;
  const ids = new Map<string, string>();
  const name = (id: string) => {
    if (!ids.has(id)) ids.set(id, `<id${ids.size}>`);
    return ids.get(id)!;
  };
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
  return log.filter((r) => !skip.test(r.path)).map((r) =>
    `${r.method} ${r.path} ${r.body}`.replace(
      uuid,
      (id) => id === FAKE_IDS.sessionId ? "<seeded session>" : name(id),
    )
  );
}

const unsign = (url: string) =>
  url.replace(/([?&])X-Goog-(Date|Signature|Credential)=[^&]*/g, "$1X-Goog-$2=…");

Deno.test({
  name: "cli diff: JSON of every shared command equals the official CLI's",
  ignore: !available,
  async fn(t) {
    const fake = await spawnFakeTinker({ tracePendingCount: 0 });
    const home = await mkdtemp(join(tmpdir(), "tinker-diff-home-"));
    const env = { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url, HOME: home };
    const both = async (args: string[]) => {
      const [theirs, ours] = await Promise.all([official(args, env), runCli(args, { env })]);
      return { theirs, ours };
    };
    const compareJson = async (args: string[], normalize = (v: unknown) => v) => {
      const { theirs, ours } = await both(["-f", "json", ...args]);
      assert.equal(theirs.code, 0, `official: ${theirs.stderr}`);
      assert.equal(ours.code, 0, `ours: ${ours.stderr}`);
      assert.deepEqual(normalize(JSON.parse(ours.stdout)), normalize(JSON.parse(theirs.stdout)));
    };
    try {
      const reads: string[][] = [
        ["run", "list"],
        ["run", "list", "--limit", "0"],
        ["run", "list", "--limit", "3"],
        ["run", "info", RUN],
        ["run", "info", FAKE_IDS.corruptedRun],
        ["checkpoint", "list"],
        ["checkpoint", "list", "--limit", "0"],
        ["checkpoint", "list", "--run-id", RUN],
        ["checkpoint", "list", "--run-id", FAKE_IDS.bigRun],
        ["checkpoint", "info", FAKE_IDS.checkpointPath],
        ["checkpoint", "info", FAKE_IDS.publicCheckpointPath],
        ["checkpoint", "info", EXTERNAL],
        ["billing", "usage", "2026-07-13T00:00:00Z", "2026-07-14T00:00:00Z"],
        ["billing", "checkpoint-storage"],
        ["billing", "checkpoint-storage", "--project-id", "proj-beta"],
        ["model", "list"],
        ["model", "list", "QWEN"],
      ];
      for (const args of reads) await t.step(args.join(" "), () => compareJson(args));
      await t.step("session export-trace --url-only", () =>
        compareJson(
          ["session", "export-trace", FAKE_IDS.sessionId, "--url-only"],
          (v) => ({ ...(v as object), url: unsign((v as { url: string }).url) }),
        ));
      await t.step("CSV output", async () => {
        for (const flag of ["--csv", "--sessions-csv"]) {
          const { theirs, ours } = await both(
            ["billing", "usage", "2026-07-13T00:00:00Z", "2026-07-14T00:00:00Z", flag, "-"],
          );
          assert.equal(ours.stdout, theirs.stdout, flag);
        }
      });
      await t.step("table output, byte for byte", async () => {
        for (
          const args of [["run", "list"], ["checkpoint", "list", "--run-id", RUN], [
            "run",
            "info",
            RUN,
          ]]
        ) {
          const { theirs, ours } = await both(args);
          assert.equal(ours.stdout, theirs.stdout, args.join(" "));
        }
      });
      await t.step("checkpoint download: the export flow's requests and JSON", async () => {
        const path = FAKE_IDS.checkpointPath;
        const flow = async (run: () => Promise<CliResult>) => {
          await fake.clearLog();
          const result = await run();
          assert.equal(result.code, 0, result.stderr);
          return {
            json: JSON.parse(result.stdout),
            requests: exportRequests(await fake.requests()),
          };
        };
        const theirs = await flow(() =>
          official(["-f", "json", "checkpoint", "download", path, "-o", `${home}/theirs`], env)
        );
        const ours = await flow(() =>
          runCli(["-f", "json", "checkpoint", "download", path, "-o", `${home}/ours`], { env })
        );
        assert.deepEqual(ours.requests, theirs.requests, CLI_DOWNLOAD_FLOW.reason);
        assert.equal(ours.requests.length, 10, ours.requests.join("\n"));
        assert.equal(ours.json.destination, theirs.json.destination.replace("/theirs/", "/ours/"));
        assert.equal(ours.json.file_size_bytes, theirs.json.file_size_bytes);
      });
      await t.step("404 message (exit codes differ deliberately)", async () => {
        const { theirs, ours } = await both(["run", "info", "no-such-run"]);
        assert.equal(ours.stderr, theirs.stderr);
        assert.deepEqual([theirs.code, ours.code], [1, 4], DELIBERATE["exit codes"]);
      });
      await t.step("publish / unpublish / set-ttl print nothing, same effect", async () => {
        const path = FAKE_IDS.checkpointPath;
        const state = async () => {
          const r = await runCli(["-f", "json", "checkpoint", "info", path], { env });
          const { public: isPublic, expires_at } = JSON.parse(r.stdout);
          return { isPublic, hasExpiry: expires_at !== null };
        };
        for (
          const run of [
            official,
            (args: string[], e: Record<string, string>) => runCli(args, { env: e }),
          ]
        ) {
          for (
            const [args, expected] of [
              [["checkpoint", "publish", path], { isPublic: true, hasExpiry: false }],
              [["checkpoint", "set-ttl", path, "--ttl", "86400"], {
                isPublic: true,
                hasExpiry: true,
              }],
              [["checkpoint", "set-ttl", path, "--remove"], { isPublic: true, hasExpiry: false }],
              [["checkpoint", "unpublish", path], { isPublic: false, hasExpiry: false }],
            ] as const
          ) {
            const result = await run([...args], env);
            assert.deepEqual(
              [result.code, result.stdout, result.stderr],
              [0, "", ""],
              args.join(" "),
            );
            assert.deepEqual(await state(), expected, args.join(" "));
          }
        }
      });
    } finally {
      await fake.close();
      await rm(home, { recursive: true, force: true });
    }
  },
});
