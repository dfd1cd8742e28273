// Interoperability with TuFT, a Tinker-compatible server someone else wrote
// (PyPI `tuft`, pinned; CPU test mode). The `interop` stage of
// scripts/run_tests.ts installs it into its own venv and runs this file with
// TINKER_INTEROP_TUFT_VENV set; without that variable the test is skipped
// with a message (the `deno` stage sees it that way).
//
// TuFT is populated through its own pinned official SDK (0.25: LoRA runs,
// save_state, save_weights_for_sampler, a sampler); then every RestClient
// method and every CLI read command runs against it, compared with that SDK
// and its CLI (and, for what 0.25 lacks, with the 0.38 SDK and CLI of .venv).
// Routes TuFT does not serve must fail with the right error class.
//
// Then training and sampling run through TrainingClient and SamplingClient
// (same server and users), compared with the same calls of TuFT's SDK 0.25
// (train_sample.py).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  AdminClient,
  ApiError,
  InternalServerError,
  ModelInput,
  NotFoundError,
  RestClient,
  ServiceClient,
  TinkerError,
  UnsafeUrlError,
} from "../../mod.ts";
import { diffOutcomes, type Outcome, outcomeOf } from "../../conformance/compare.ts";
import { type CliResult, runCli } from "../cli_run.ts";
import { python, startTuft, TUFT_MODEL, TUFT_USERS } from "./_tuft.ts";

const VENV = Deno.env.get("TINKER_INTEROP_TUFT_VENV");
if (!VENV) {
  console.warn("tuft_test: skipped — run by the interop stage (deno task test interop)");
}
const root = new URL("../../", import.meta.url).pathname;
const DRIVER = `${root}conformance/driver.py`;
const POPULATE = new URL("populate.py", import.meta.url).pathname;
const TRAIN_SAMPLE = new URL("train_sample.py", import.meta.url).pathname;
/** The 0.38 SDK and CLI of the conformance suite, for what SDK 0.25 lacks. */
const VENV_038 = `${root}.venv`;

interface Populated {
  a: {
    runs: string[];
    states: string[];
    sampler_weights: string[];
    sampler_id: string;
    session_id: string;
  };
  b: { runs: string[]; states: string[] };
}

/** Runs driver.py steps with the SDK of `venv` against TuFT as one user. */
async function sdk(
  venv: string,
  url: string,
  key: string,
  steps: Record<string, unknown>[],
): Promise<Outcome[]> {
  const out = await python(venv, [DRIVER, url, key], {
    stdin: JSON.stringify({ steps }),
    timeoutMs: 90_000,
  });
  assert.equal(out.code, 0, `driver.py exited ${out.code}:\n${out.stderr}\n${out.stdout}`);
  return JSON.parse(out.stdout).results;
}

/** `value` seen through `shape`: only the keys `shape` has (absent ones as null), recursively. */
function seenAs(value: unknown, shape: unknown): unknown {
  if (Array.isArray(value) && Array.isArray(shape)) {
    return value.map((v, i) => seenAs(v, shape[i]));
  }
  if (value && shape && typeof value === "object" && typeof shape === "object") {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(shape).map(([k, v]) => [k, k in record ? seenAs(record[k], v) : null]),
    );
  }
  return value;
}

/**
 * Runs an official CLI (read commands only). The official CLIs (0.25 and
 * 0.38) occasionally abort at interpreter exit under load (exit 134,
 * SIGABRT, nothing on stderr) after printing their output; such a run is
 * repeated once, with Python's fault handler on so a second abort says where.
 */
async function official(
  program: string,
  args: string[],
  env: Record<string, string>,
): Promise<CliResult> {
  const once = () =>
    new Deno.Command(program, {
      args,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        COLUMNS: "120",
        TINKER_TELEMETRY: "0",
        PYTHONFAULTHANDLER: "1",
        ...env,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(90_000),
    }).output().then(({ code, stdout, stderr }) => ({
      code,
      stdout: new TextDecoder().decode(stdout),
      stderr: new TextDecoder().decode(stderr),
    }));
  const first = await once();
  if (first.code !== 134) return first;
  console.warn(
    `${program} ${args.join(" ")}: aborted at exit (134); running it again\n${
      first.stderr.slice(-2000)
    }`,
  );
  return once();
}

Deno.test({
  name: "interop: the client and CLI against TuFT agree with the official SDK and CLI",
  ignore: !VENV,
  async fn(t) {
    const venv = VENV!;
    await using tuft = await startTuft(venv);
    const populated = await python(
      venv,
      [POPULATE, tuft.url, TUFT_MODEL, TUFT_USERS.a, TUFT_USERS.b],
      { timeoutMs: 120_000 },
    );
    assert.equal(populated.code, 0, `populate.py failed:\n${populated.stderr}\n${tuft.output()}`);
    const ids: Populated = JSON.parse(populated.stdout);
    const [run, run2] = ids.a.runs as [string, string];
    const [state, state2, final, scratch1, scratch2] = ids.a.states as [
      string,
      string,
      string,
      string,
      string,
    ];
    const sampler = ids.a.sampler_weights[0]!;
    const home = await Deno.makeTempDir({ prefix: "tinker-interop-home-" });
    const env = { TINKER_API_KEY: TUFT_USERS.a, TINKER_BASE_URL: tuft.url, HOME: home };
    const cli25 = (args: string[], e = env) => official(`${venv}/bin/tinker`, args, e);
    const cli38 = (args: string[], e = env) => official(`${VENV_038}/bin/tinker`, args, e);
    const has038 = existsSync(`${VENV_038}/bin/tinker`);
    using alice = new RestClient({ baseUrl: tuft.url, apiKey: TUFT_USERS.a });
    using bob = new RestClient({ baseUrl: tuft.url, apiKey: TUFT_USERS.b });
    // For TuFT's 500s: one attempt (the default client's retries are checked once below).
    using once = new RestClient({ baseUrl: tuft.url, apiKey: TUFT_USERS.a, maxRetries: 0 });
    const origins = { api: tuft.url, storage: "<no storage origin>" };
    /** Ours equals the SDK's, as the conformance suite compares them (class, status, body; values). */
    const same = (mine: Outcome, theirs: Outcome | undefined, where: string) =>
      assert.deepEqual(diffOutcomes(mine, theirs!, where, { ours: origins, theirs: origins }), []);

    try {
      // First, while every "Last Update"/"Created" still reads "just now".
      await t.step(
        "CLI tables are byte-identical to the official CLI's (0.25 and 0.38)",
        async () => {
          const commands = [
            ["run", "list"],
            ["run", "info", run],
            ["checkpoint", "list"],
            ["checkpoint", "list", "--run-id", run],
          ];
          for (const args of commands) {
            const [mine, theirs25, theirs38] = await Promise.all([
              runCli(args, { env }),
              cli25(args),
              has038 ? cli38(args) : undefined,
            ]);
            assert.equal(mine.code, 0, `${args.join(" ")}: ${mine.stderr}`);
            assert.equal(mine.stdout, theirs25.stdout, `${args.join(" ")} (official 0.25)`);
            if (theirs38) assert.equal(mine.stdout, theirs38.stdout, `${args.join(" ")} (0.38)`);
          }
        },
      );

      await t.step("every RestClient read returns the SDK's JSON", async () => {
        const reads: [string, () => PromiseLike<unknown>, Record<string, unknown>][] = [
          ["getTrainingRun", () => alice.getTrainingRun(run), {
            call: "rest.get_training_run",
            args: [run],
          }],
          ["getTrainingRunByTinkerPath", () => alice.getTrainingRunByTinkerPath(state), {
            call: "rest.get_training_run_by_tinker_path",
            args: [state],
          }],
          ["getWeightsInfoByTinkerPath", () => alice.getWeightsInfoByTinkerPath(state), {
            call: "rest.get_weights_info_by_tinker_path",
            args: [state],
          }],
          ["listTrainingRuns", () => alice.listTrainingRuns({ limit: 20 }), {
            call: "rest.list_training_runs",
            kwargs: { limit: 20 },
          }],
          [
            "listTrainingRuns, limit 1 offset 1",
            () => alice.listTrainingRuns({ limit: 1, offset: 1 }),
            {
              call: "rest.list_training_runs",
              kwargs: { limit: 1, offset: 1 },
            },
          ],
          ["listCheckpoints", () => alice.listCheckpoints(run), {
            call: "rest.list_checkpoints",
            args: [run],
          }],
          ["listUserCheckpoints", () => alice.listUserCheckpoints({ limit: 100 }), {
            call: "rest.list_user_checkpoints",
            kwargs: { limit: 100 },
          }],
          ["getSession", () => alice.getSession(ids.a.session_id), {
            call: "rest.get_session",
            args: [ids.a.session_id],
          }],
          ["listSessions", () => alice.listSessions({ limit: 20 }), {
            call: "rest.list_sessions",
            kwargs: { limit: 20 },
          }],
          ["getSampler", () => alice.getSampler(ids.a.sampler_id), {
            call: "rest.get_sampler",
            args: [ids.a.sampler_id],
          }],
        ];
        const theirs = await sdk(venv, tuft.url, TUFT_USERS.a, reads.map((r) => r[2]));
        for (const [i, [name, call]] of reads.entries()) {
          const mine = await outcomeOf(call);
          assert.ok("ok" in mine, `${name}: ${JSON.stringify(mine)}`);
          same(mine, theirs[i], name);
        }
        // Every page, as an iterator: the same runs as the SDK's first page.
        const all = [];
        for await (const r of alice.listTrainingRuns({ limit: 1 })) all.push(r);
        const first = (theirs[3] as { ok: { training_runs: unknown[] } }).ok.training_runs;
        same({ ok: all }, { ok: first }, "every page of listTrainingRuns");
        assert.deepEqual(all.map((r) => r.training_run_id).sort(), [...ids.a.runs].sort());
        const checkpoints = [];
        for await (const c of alice.listUserCheckpoints({ limit: 2 })) checkpoints.push(c);
        const page = (theirs[6] as { ok: { checkpoints: unknown[] } }).ok.checkpoints;
        same({ ok: checkpoints }, { ok: page }, "every page of listUserCheckpoints");
      });

      await t.step(
        "the archive URL: TuFT's file:// answer is refused, where the SDK returns it",
        async () => {
          // A deliberate difference (SECURITY.md): a URL the server sends is used only when it is
          // https: (or http: to loopback / with an http: base URL); the SDK hands file:// back.
          for (const path of [state, sampler]) {
            const [theirs] = await sdk(venv, tuft.url, TUFT_USERS.a, [{
              call: "rest.get_checkpoint_archive_url_from_tinker_path",
              args: [path],
            }]);
            const url = (theirs as { ok: { url: string } }).ok.url;
            assert.ok(url.startsWith(`file://${tuft.checkpointDir}/`), url);
            await assert.rejects(
              alice.getCheckpointArchiveUrlFromTinkerPath(path),
              (e: unknown) =>
                e instanceof UnsafeUrlError && e.scheme === "file:" && /"file:"/.test(e.message) &&
                !e.message.includes(tuft.checkpointDir),
            );
          }
          await assert.rejects(
            alice.getCheckpointArchiveUrl(run2, "weights/final"),
            UnsafeUrlError,
          );
        },
      );

      await t.step("each user sees only their own runs and checkpoints", async () => {
        const steps = [
          { call: "rest.list_training_runs", kwargs: { limit: 20 } },
          { call: "rest.list_user_checkpoints", kwargs: { limit: 100 } },
          { call: "rest.list_checkpoints", args: [ids.b.runs[0]] },
        ];
        const theirs = await sdk(venv, tuft.url, TUFT_USERS.b, steps);
        const mine = [
          await outcomeOf(() => bob.listTrainingRuns({ limit: 20 })),
          await outcomeOf(() => bob.listUserCheckpoints({ limit: 100 })),
          await outcomeOf(() => bob.listCheckpoints(ids.b.runs[0]!)),
        ];
        for (const [i, outcome] of mine.entries()) same(outcome, theirs[i], steps[i]!.call);
        const runs = (mine[0] as { ok: { training_runs: { training_run_id: string }[] } }).ok;
        assert.deepEqual(runs.training_runs.map((r) => r.training_run_id), ids.b.runs);
      });

      await t.step({
        name: "getServerCapabilities returns the 0.38 SDK's JSON",
        ignore: !has038,
        fn: async () => {
          const [theirs] = await sdk(VENV_038, tuft.url, TUFT_USERS.a, [{
            call: "rest.get_server_capabilities",
          }]);
          // TuFT adds `capabilities` per model, which this client keeps (responses are the
          // wire JSON) and the SDK drops; the SDK fills its own fields the wire lacks with null.
          const mine = await outcomeOf(() => alice.getServerCapabilities());
          assert.ok("ok" in mine && "ok" in theirs!, JSON.stringify([mine, theirs]));
          same({ ok: seenAs(mine.ok, theirs.ok) }, theirs, "getServerCapabilities");
          const models = mine.ok as { supported_models: { capabilities?: unknown }[] };
          assert.deepEqual(models.supported_models[0]?.capabilities, ["training", "sampling"]);
        },
      });

      await t.step("routes TuFT does not serve fail with the SDK's error class", async () => {
        const session = ids.a.session_id;
        const unserved: [string, () => PromiseLike<unknown>, string, Record<string, unknown>][] = [
          ["getAuditLog", () => alice.getAuditLog(), venv, { call: "rest.get_audit_log" }],
          [
            "getBillingUsage",
            () => alice.getBillingUsage("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
            venv,
            {
              call: "rest.get_billing_usage",
              args: [{ $datetime: "2026-01-01T00:00:00+00:00" }, {
                $datetime: "2026-01-02T00:00:00+00:00",
              }],
            },
          ],
          ["exportSessionTrace", () => alice.exportSessionTrace(session), venv, {
            call: "rest.export_session_trace",
            args: [session],
          }],
          ["assignSessionProject", () => alice.assignSessionProject(session, "p"), venv, {
            call: "rest.assign_session_project",
            args: [session, "p"],
          }],
          [
            "setCheckpointTtlFromTinkerPath",
            () => alice.setCheckpointTtlFromTinkerPath(state, 3600),
            venv,
            {
              call: "rest.set_checkpoint_ttl_from_tinker_path",
              args: [state, 3600],
            },
          ],
          ["whoami", () => alice.whoami(), venv, { call: "rest.whoami" }],
          ["copyWeights", () => alice.copyWeights(state, { destinationProjectId: "p" }), VENV_038, {
            call: "rest.copy_weights",
            args: [state],
            kwargs: { destination_project_id: "p" },
          }],
          ["searchSessions", () => alice.searchSessions({}), VENV_038, {
            call: "rest.search_sessions",
            args: [{ $model: "SessionSearchRequest", fields: {} }],
          }],
          [
            "getCurrentCheckpointStorageUsage",
            () => alice.getCurrentCheckpointStorageUsage(),
            VENV_038,
            {
              call: "rest.get_current_checkpoint_storage_usage",
            },
          ],
          [
            "getExternalWeightsUrls",
            () => alice.getExternalWeightsUrls(`tinker://${run}/external_weights/x`),
            VENV_038,
            {
              call: "rest.get_external_weights_urls",
              args: [`tinker://${run}/external_weights/x`],
            },
          ],
        ];
        for (const [name, call, sdkVenv, step] of unserved) {
          const mine = await outcomeOf(call);
          assert.ok("error" in mine, `${name} succeeded against TuFT: ${JSON.stringify(mine)}`);
          if (sdkVenv === VENV_038 && !has038) continue;
          const [theirs] = await sdk(sdkVenv, tuft.url, TUFT_USERS.a, [step]);
          same(mine, theirs, name);
        }
      });

      await t.step(
        "TuFT's 500s (where a 404 belongs) are InternalServerError, and a write is not resent",
        async () => {
          // The SDK retries these for five minutes, so it is not run here.
          const missing = await outcomeOf(() => once.getTrainingRun("no-such-run"));
          assert.deepEqual(
            "error" in missing && [missing.error.class, missing.error.status],
            ["InternalServerError", 500],
          );
          for (
            const call of [
              () => once.listCheckpoints("no-such-run"),
              () => once.getTrainingRun(ids.b.runs[0]!), // another user's run
              () => once.deleteCheckpointFromTinkerPath(`tinker://${run}/weights/no-such`),
            ]
          ) {
            await assert.rejects(call(), InternalServerError);
          }
          // The default client retries a read (and then fails in seconds, not minutes).
          await assert.rejects(alice.getTrainingRun("no-such-run"), InternalServerError);
          // Unpublish: TuFT routes DELETE …/publish to its delete route, which
          // answers 500 — reported, not resent, and the checkpoint survives.
          await alice.publishCheckpointFromTinkerPath(state);
          await assert.rejects(alice.unpublishCheckpointFromTinkerPath(state), InternalServerError);
          const after = await alice.listCheckpoints(run);
          const kept = after.checkpoints.find((c) => c.tinker_path === state);
          assert.equal(kept?.public, true, "unpublish left the checkpoint public and present");
        },
      );

      await t.step("publish and delete act as the SDK's do", async () => {
        const [published, deleted] = await sdk(venv, tuft.url, TUFT_USERS.a, [
          { call: "rest.publish_checkpoint_from_tinker_path", args: [state2] },
          { call: "rest.delete_checkpoint_from_tinker_path", args: [scratch2] },
        ]);
        assert.deepEqual([published, deleted], [{ ok: null }, { ok: null }]);
        assert.equal(scratch1, `tinker://${run2}/weights/scratch-1`);
        assert.equal(await alice.deleteCheckpoint(run2, "weights/scratch-1"), undefined);
        const checkpoints = (await alice.listCheckpoints(run2)).checkpoints;
        assert.deepEqual(checkpoints.map((c) => c.tinker_path), [final]);
        const first = (await alice.listCheckpoints(run)).checkpoints;
        assert.deepEqual(
          first.map((c) => [c.tinker_path, c.public]),
          [[state, true], [state2, true], [sampler, false]],
        );
      });

      await t.step("CLI JSON of every read command equals the official CLI's", async () => {
        // Ours equals the 0.38 CLI's JSON exactly, and the 0.25 CLI's (TuFT's) in
        // every key that one prints (0.38 added keys such as `user_metadata`).
        const reads: [string[], boolean][] = [ // [command, the 0.25 CLI has it]
          [["run", "list"], true],
          [["run", "list", "--limit", "1"], true],
          [["run", "info", run], true],
          [["checkpoint", "list"], true],
          [["checkpoint", "list", "--run-id", run], true],
          [["checkpoint", "list", "--run-id", run2], true],
          [["checkpoint", "info", state], true],
          [["checkpoint", "info", sampler], true],
          [["model", "list"], false],
        ];
        for (const [args, in025] of reads) {
          const json = ["-f", "json", ...args];
          const [mine, theirs25, theirs38] = await Promise.all([
            runCli(json, { env }),
            in025 ? cli25(json) : undefined,
            has038 ? cli38(json) : undefined,
          ]);
          const where = args.join(" ");
          assert.equal(mine.code, 0, `${where}: ${mine.stderr}`);
          const value = JSON.parse(mine.stdout);
          if (theirs38) {
            assert.equal(theirs38.code, 0, `official 0.38 ${where}: ${theirs38.stderr}`);
            assert.deepEqual(value, JSON.parse(theirs38.stdout), `${where} (0.38)`);
          }
          if (theirs25) {
            assert.equal(theirs25.code, 0, `official 0.25 ${where}: ${theirs25.stderr}`);
            const expected = JSON.parse(theirs25.stdout);
            assert.deepEqual(seenAs(value, expected), expected, `${where} (0.25)`);
          }
        }
      });

      await t.step("CLI commands the official CLI lacks print the SDK's JSON", async () => {
        // The 0.38 SDK's types where present (the CLI prints those), else TuFT's 0.25.
        const sdkVenv = has038 ? VENV_038 : venv;
        const theirs = await sdk(sdkVenv, tuft.url, TUFT_USERS.a, [
          { call: "rest.get_session", args: [ids.a.session_id] },
          { call: "rest.get_sampler", args: [ids.a.sampler_id] },
          { call: "rest.list_sessions", kwargs: { limit: 20 } },
        ]);
        const commands = [
          ["session", "info", ids.a.session_id],
          ["sampler", "info", ids.a.sampler_id],
          ["session", "list"],
        ];
        for (const [i, args] of commands.entries()) {
          const mine = await runCli(["-f", "json", ...args], { env });
          assert.equal(mine.code, 0, `${args.join(" ")}: ${mine.stderr}`);
          const expected = (theirs[i] as { ok: unknown }).ok;
          assert.deepEqual(seenAs(JSON.parse(mine.stdout), expected), expected, args.join(" "));
        }
      });

      await t.step("CLI errors from unserved routes read as the official CLI's", async () => {
        const commands: [string[], boolean][] = [ // [command, the 0.25 CLI has it]
          [["billing", "usage", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"], true],
          [["session", "export-trace", ids.a.session_id, "--url-only"], true],
          [["billing", "checkpoint-storage"], false],
        ];
        for (const [args, in025] of commands) {
          if (!in025 && !has038) continue;
          const [mine, theirs] = await Promise.all([
            runCli(args, { env }),
            in025 ? cli25(args) : cli38(args),
          ]);
          assert.equal(mine.stderr, theirs.stderr, args.join(" "));
          // Exit codes differ deliberately (ours: 4 not found; the official: 1 for every error).
          assert.deepEqual([mine.code, theirs.code], [4, 1], args.join(" "));
        }
      });

      await t.step(
        "CLI auth commands: status as the official CLI's; whoami needs JWT auth",
        async () => {
          const status = await runCli(["auth", "status"], { env });
          assert.equal(status.code, 0, status.stderr);
          // Ours adds one line naming the credential's source (a deliberate addition).
          const extra = "Credential source: TINKER_API_KEY\n";
          assert.ok(status.stdout.includes(extra), status.stdout);
          if (has038) {
            const theirs = await cli38(["auth", "status"]);
            assert.equal(status.stdout.replace(extra, ""), theirs.stdout);
          }
          const whoami = await runCli(["auth", "whoami"], { env });
          assert.equal(whoami.code, 3, whoami.stderr);
          assert.match(whoami.stderr, /JWT auth/);
        },
      );

      await t.step(
        "checkpoint download refuses TuFT's file:// archive URL, fetching nothing",
        async () => {
          const out = await Deno.makeTempDir({ prefix: "tinker-interop-dl-" });
          try {
            const result = await runCli(["checkpoint", "download", state, "-o", out], { env });
            assert.equal(result.code, 7, `exit code (local/archive failure): ${result.stderr}`);
            assert.match(result.stderr, /file:/, "the message names the URL's scheme");
            assert.doesNotMatch(result.stderr, /network/i, "no network hint");
            assert.deepEqual([...Deno.readDirSync(out)], [], "nothing was written");
          } finally {
            await Deno.remove(out, { recursive: true });
          }
        },
      );

      await t.step(
        "an unknown key: TuFT's 403 reads as an auth problem naming the key's source",
        async () => {
          const bad = "tml-interop-nobody";
          const fromEnv = await runCli(["run", "list"], { env: { ...env, TINKER_API_KEY: bad } });
          assert.equal(fromEnv.code, 3, fromEnv.stderr);
          assert.match(fromEnv.stderr, /TINKER_API_KEY/);
          assert.doesNotMatch(fromEnv.stderr, new RegExp(bad), "the key itself is never printed");
          // The same key from the file the official `tinker auth login` stores.
          await Deno.mkdir(`${home}/.tinker`, { recursive: true });
          const stored = `${home}/.tinker/credentials.json`;
          await Deno.writeTextFile(
            stored,
            JSON.stringify({ default: "k", keys: { k: { key: bad } } }),
          );
          try {
            const { TINKER_API_KEY: _, ...noKey } = env;
            const fromFile = await runCli(["run", "list"], { env: noKey });
            assert.equal(fromFile.code, 3, fromFile.stderr);
            assert.match(fromFile.stderr, /credentials\.json/);
            assert.doesNotMatch(fromFile.stderr, /TINKER_API_KEY/);
          } finally {
            await Deno.remove(stored);
          }
        },
      );

      await t.step("unserved routes throw this client's own classes", async () => {
        await assert.rejects(alice.whoami(), TinkerError);
        await assert.rejects(
          alice.setCheckpointTtlFromTinkerPath(state, null),
          (e: unknown) => e instanceof ApiError && e.status === 405,
        );
        await assert.rejects(
          alice.copyWeights(state, { destinationProjectId: "p" }),
          NotFoundError,
        );
        using admin = new AdminClient({ baseUrl: tuft.url, apiKey: TUFT_USERS.a });
        await assert.rejects(admin.getAuditLog(), NotFoundError);
        await assert.rejects(admin.getCurrentCheckpointStorageUsage(), NotFoundError);
      });

      await t.step(
        "training and sampling through our clients get what TuFT's SDK 0.25 gets",
        async () => {
          const theirsRun = await python(
            venv,
            [TRAIN_SAMPLE, tuft.url, TUFT_MODEL, TUFT_USERS.a],
            { timeoutMs: 120_000 },
          );
          assert.equal(theirsRun.code, 0, `train_sample.py failed:\n${theirsRun.stderr}`);
          const theirs = JSON.parse(theirsRun.stdout);
          // Every request, by path and body type (the fetch seam only watches).
          const sent: string[] = [];
          const watched: typeof fetch = async (input, init) => {
            const response = await fetch(input, init);
            const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
            const type = new Headers(init?.headers).get("content-type") ?? "";
            sent.push(`${path} ${type.replace("application/", "")} ${response.status}`);
            return response;
          };
          const service = new ServiceClient({
            baseUrl: tuft.url,
            apiKey: TUFT_USERS.a,
            fetch: watched,
            heartbeatIntervalMs: 50, // So that the calls below send heartbeats too.
          });
          const training = await service.createLoraTrainingClient(TUFT_MODEL, { rank: 8 });
          const tokens = [9906, 11, 1917, 0];
          const fwdbwd = await training.forwardBackward([{
            model_input: ModelInput.fromInts(tokens.slice(0, -1)),
            loss_fn_inputs: { target_tokens: tokens.slice(1), weights: [0, 1, 1] },
          }], "cross_entropy");
          const optim = await training.optimStep({ learning_rate: 1e-4 });
          const state = await training.saveState("trained");
          const weights = await training.saveWeightsForSampler("trained");
          const sampler = await service.createSamplingClient({ modelPath: weights.path });
          const sampled = await sampler.sample(ModelInput.fromInts([1, 2, 3]), 2, {
            max_tokens: 4,
          });
          const logprobs = await sampler.computeLogprobs(ModelInput.fromInts([1, 2, 3, 4]));
          const base = await service.createSamplingClient({ baseModel: TUFT_MODEL });
          const baseSampled = await base.sample(ModelInput.fromInts([1, 2, 3]), 1, {
            max_tokens: 3,
          });

          // TuFT's dummy backend: same output type, keys, shapes and metric names as the
          // SDK gets; optimizer metrics, sampled tokens and logprobs are deterministic.
          assert.deepEqual({
            loss_fn_output_type: fwdbwd.loss_fn_output_type,
            loss_fn_outputs: fwdbwd.loss_fn_outputs.map((out) =>
              Object.fromEntries(
                Object.entries(out).map(([k, v]) => [k, { dtype: v.dtype, shape: v.shape }]),
              )
            ),
            metrics: Object.keys(fwdbwd.metrics).sort(),
          }, theirs.forward_backward);
          assert.equal(fwdbwd.loss_fn_outputs[0]!.logprobs!.shape![0], 3, "one per target");
          assert.ok(Number.isFinite(fwdbwd.metrics["loss:sum"]), "a finite loss");
          // Same metric names and learning rate; `step:max` counts TuFT's steps over all
          // models (the SDK's run went first), so the other values differ.
          const metrics = optim.metrics ?? {};
          assert.deepEqual(Object.keys(metrics).sort(), Object.keys(theirs.optim_step).sort());
          assert.equal(metrics["learning_rate:mean"], theirs.optim_step["learning_rate:mean"]);
          const run = training.modelId;
          assert.deepEqual([state.path, weights.path], [
            `tinker://${run}/weights/trained`,
            `tinker://${run}/sampler_weights/trained`,
          ]);
          assert.deepEqual([theirs.state, theirs.weights], [
            `tinker://${theirs.model_id}/weights/trained`,
            `tinker://${theirs.model_id}/sampler_weights/trained`,
          ]);
          const seqs = (r: typeof sampled) =>
            r.sequences.map((s) => ({
              tokens: s.tokens,
              logprobs: s.logprobs,
              stop_reason: s.stop_reason,
            }));
          assert.deepEqual(seqs(sampled), theirs.sample);
          assert.deepEqual(logprobs, theirs.compute_logprobs);
          assert.deepEqual(seqs(baseSampled), theirs.base_sample);
          // The trained run is listed with its checkpoints, as any other.
          const listed = (await alice.listCheckpoints(run)).checkpoints.map((c) => c.tinker_path);
          assert.deepEqual(listed.sort(), [state.path, weights.path].sort());

          // TuFT takes the protobuf forward_backward (no JSON fallback happens), and refuses,
          // with 422, the keys SDK 0.38 added to create_model, save_weights_for_sampler and
          // asample; each such body is sent once more without them (they held TuFT's defaults).
          const posts = sent.filter((s) =>
            !s.startsWith("/api/v1/retrieve_future") && !s.startsWith("/api/v1/session_heartbeat")
          );
          assert.deepEqual(posts.filter((s) => s.includes("forward_backward")), [
            "/api/v1/forward_backward x-protobuf 202",
          ]);
          for (const path of ["create_model", "save_weights_for_sampler"]) {
            assert.deepEqual(posts.filter((s) => s.startsWith(`/api/v1/${path} `)), [
              `/api/v1/${path} json 422`,
              `/api/v1/${path} json 202`,
            ]);
          }
          assert.deepEqual(
            posts.filter((s) => s.startsWith("/api/v1/asample ")),
            Array(3).fill(["/api/v1/asample json 422", "/api/v1/asample json 202"]).flat(),
          );
          // TuFT takes the session's heartbeats; it serves no retrieve_futures, and its client
          // config does not ask for it (no `sample_use_retrieve_futures`), so none is sent.
          const beating = (s: string) => s.startsWith("/api/v1/session_heartbeat ");
          for (let i = 0; i < 100 && !sent.some(beating); i++) {
            await new Promise((r) => setTimeout(r, 50)); // The session's timer sends one.
          }
          const beats = sent.filter(beating);
          assert.ok(beats.length > 0, "heartbeats were sent");
          assert.ok(beats.every((s) => s.endsWith(" 200")), beats.join("\n"));
          assert.ok(!sent.some((s) => s.startsWith("/api/v1/retrieve_futures ")));
          // From a checkpoint: TuFT's client config says `create_model_via_load_weights: false`,
          // so weights_info, create_model, then load_weights with the new model's id (as SDK 0.25).
          sent.length = 0;
          const resumed = await service.createTrainingClientFromStateWithOptimizer(state.path);
          assert.equal(resumed.getInfo().lora_rank, 8);
          const again = await resumed.forwardBackward([{
            model_input: ModelInput.fromInts([1, 2]),
            loss_fn_inputs: { target_tokens: [2, 3], weights: [1, 1] },
          }], "cross_entropy");
          assert.deepEqual(Object.keys(again.metrics).sort(), theirs.forward_backward.metrics);
          assert.deepEqual(
            sent.filter((s) =>
              !s.startsWith("/api/v1/retrieve_future") && !s.startsWith("/api/v1/session_heartbeat")
            ).map((s) => s.split(" ")[0]),
            [
              "/api/v1/weights_info",
              "/api/v1/create_model",
              "/api/v1/create_model",
              "/api/v1/load_weights",
              "/api/v1/get_info",
              "/api/v1/forward_backward",
            ],
          );
          // A caller's own optimizer choice is not dropped: TuFT's 422 stands.
          await assert.rejects(
            service.createLoraTrainingClient(TUFT_MODEL, {
              rank: 8,
              optimizer: { type: "dimuon" },
            }),
            (e: unknown) => e instanceof ApiError && e.status === 422,
          );
          // TuFT serves no session finish: close() fails with NotFoundError, as the
          // SDK 0.38's close() does (SDK 0.25 never finishes a session).
          await assert.rejects(service.close("success"), NotFoundError);
        },
      );
    } finally {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
