// The `tinker` CLI against the fake Tinker server: every command in table
// and JSON form (golden outputs at COLUMNS=120, no TTY), error exits, the
// delete prompt through stdin, downloads. Set TINKER_CLI_BIN to run the same
// suite against a compiled binary (see tests/cli_run.ts).

import assert from "node:assert/strict";
import {
  chmod,
  chown,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";
import { CLI_BIN, runCli, transcript } from "./cli_run.ts";

const RUN = FAKE_IDS.run;
const CKPT = FAKE_IDS.checkpointPath;
const PUBLIC = FAKE_IDS.publicCheckpointPath;
const EXTERNAL = (FAKE_IDS as unknown as { externalCheckpointPath: string }).externalCheckpointPath;
if (CLI_BIN) console.log(`running the CLI as: ${CLI_BIN.join(" ")}`);

async function fixture() {
  const fake = await startFakeTinker({ tracePendingCount: 0 });
  const env = { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url };
  const cli = (args: string[], options: Parameters<typeof runCli>[1] = {}) =>
    runCli(args, { ...options, env: { ...env, ...options.env } });
  return { fake, env, cli };
}

Deno.test(`cli: read commands, table and JSON`, async (t) => {
  const { fake, cli } = await fixture();
  try {
    const cases: [string, string[]][] = [
      ["run list", ["run", "list"]],
      ["run list json", ["-f", "json", "run", "list", "--limit", "2"]],
      ["run list columns", [
        "run",
        "list",
        "-c",
        "id,owner,checkpoint,checkpoint_time",
        "--limit",
        "4",
      ]],
      ["run list all", ["run", "list", "--all"]],
      ["run list jsonl", ["run", "list", "--limit", "3", "-f", "jsonl"]],
      ["run info", ["run", "info", RUN]],
      ["run info json", ["-f", "json", "run", "info", RUN]],
      ["run info corrupted", ["run", "info", FAKE_IDS.corruptedRun]],
      ["checkpoint list", ["checkpoint", "list", "--limit", "6"]],
      ["checkpoint list json", ["-f", "json", "checkpoint", "list", "--limit", "3"]],
      ["checkpoint list run", ["checkpoint", "list", "--run-id", RUN]],
      ["checkpoint list run json", ["-f", "json", "checkpoint", "list", "--run-id", RUN]],
      ["checkpoint info", ["checkpoint", "info", CKPT]],
      ["checkpoint info json", ["-f", "json", "checkpoint", "info", PUBLIC]],
      ["model list", ["model", "list"]],
      ["model list json filter", ["-f", "json", "model", "list", "llama"]],
      ["sampler info", ["sampler", "info", FAKE_IDS.samplerId]],
      ["sampler info json", ["sampler", "info", FAKE_IDS.samplerId, "-f", "json"]],
      ["session info", ["session", "info", FAKE_IDS.sessionId]],
      ["session list", ["session", "list", "--limit", "5"]],
      ["session list json all", ["-f", "json", "session", "list", "--all"]],
      ["billing usage", ["billing", "usage", "2026-07-13T05:00:00Z", "2026-07-13T07:00:00Z"]],
      ["billing usage json", [
        "-f",
        "json",
        "billing",
        "usage",
        "2026-07-13T05:00:00Z",
        "2026-07-13T06:00:00Z",
      ]],
      ["billing usage csv", [
        "billing",
        "usage",
        "2026-07-13T05:00:00Z",
        "2026-07-13T06:00:00Z",
        "--csv",
        "-",
      ]],
      ["billing sessions csv", [
        "billing",
        "usage",
        "2026-07-13T00:00:00Z",
        "2026-07-14T00:00:00Z",
        "--sessions-csv",
        "-",
      ]],
      ["billing usage empty", ["billing", "usage", "2026-07-20T00:00:00Z", "2026-07-21T00:00:00Z"]],
      ["billing checkpoint-storage", ["billing", "checkpoint-storage"]],
      ["billing checkpoint-storage json", [
        "-f",
        "json",
        "billing",
        "checkpoint-storage",
        "--project-id",
        "proj-beta",
      ]],
      ["help root", ["--help"]],
      ["help group", ["checkpoint", "-h"]],
      ["help command", ["run", "list", "--help"]],
    ];
    for (const [name, args] of cases) {
      await t.step(name, async (t) => {
        const result = await cli(args);
        assert.equal(result.code, 0, transcript(result));
        await t.assertSnapshot(transcript(result));
      });
    }
    await t.step("version", async () => {
      const result = await cli(["version"]);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^tinker \d+\.\d+\.\d+ /);
    });
    await t.step("export-trace --url-only", async () => {
      const table = await cli(["session", "export-trace", FAKE_IDS.sessionId, "--url-only"]);
      assert.equal(table.code, 0, transcript(table));
      assert.ok(table.stdout.startsWith(fake.storageUrl), table.stdout);
      assert.equal(table.stdout.trim().split("\n").length, 1);
      assert.match(table.stderr, /^Exporting trace for session /);
      const json = await cli([
        "-f",
        "json",
        "session",
        "export-trace",
        FAKE_IDS.sessionId,
        "--url-only",
      ]);
      const parsed = JSON.parse(json.stdout);
      assert.deepEqual(Object.keys(parsed), ["session_id", "url"]);
      assert.equal(json.stderr, "");
    });
  } finally {
    await fake.close();
  }
});

Deno.test(`cli: publish, unpublish, set-ttl, delete`, async (t) => {
  const { fake, cli } = await fixture();
  const checkpoint = async (path: string) => {
    const list = await cli(["-f", "json", "checkpoint", "list", "--run-id", RUN]);
    return JSON.parse(list.stdout).checkpoints.find((c: { tinker_path: string }) =>
      c.tinker_path === path
    );
  };
  try {
    await t.step("publish / unpublish print nothing", async () => {
      const published = await cli(["checkpoint", "publish", CKPT]);
      assert.deepEqual(published, { code: 0, stdout: "", stderr: "" });
      assert.equal((await checkpoint(CKPT)).public, true);
      const unpublished = await cli(["checkpoint", "unpublish", CKPT]);
      assert.deepEqual(unpublished, { code: 0, stdout: "", stderr: "" });
      assert.equal((await checkpoint(CKPT)).public, false);
    });
    await t.step("set-ttl --ttl / --remove", async () => {
      assert.equal((await cli(["checkpoint", "set-ttl", CKPT, "--ttl", "86400"])).code, 0);
      assert.match((await checkpoint(CKPT)).expires_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      assert.equal((await cli(["checkpoint", "set-ttl", CKPT, "--remove"])).code, 0);
      assert.equal((await checkpoint(CKPT)).expires_at, null);
      const both = await cli(["checkpoint", "set-ttl", CKPT, "--ttl", "5", "--remove"]);
      assert.equal(both.code, 6);
    });
    await t.step("delete prompt answered n", async (t) => {
      const result = await cli(["checkpoint", "delete", CKPT, PUBLIC], { stdin: "n\n" });
      assert.equal(result.code, 0);
      await t.assertSnapshot(transcript(result));
      assert.ok(await checkpoint(CKPT));
    });
    await t.step("delete prompt at end of input", async (t) => {
      const result = await cli(["checkpoint", "delete", CKPT], { stdin: "" });
      assert.equal(result.code, 1);
      await t.assertSnapshot(transcript(result));
      assert.ok(await checkpoint(CKPT));
    });
    await t.step("delete --run-id filter, prompt answered y", async (t) => {
      const result = await cli(
        ["checkpoint", "delete", "--run-id", RUN, "--type", "weights", "--before", "2030-01-01"],
        { stdin: "y\n" },
      );
      assert.equal(result.code, 0, transcript(result));
      await t.assertSnapshot(transcript(result));
      assert.equal(await checkpoint(CKPT), undefined);
      assert.ok(await checkpoint(PUBLIC));
    });
    await t.step("delete -y with JSON output, one failure", async (t) => {
      const missing = `tinker://${RUN}/weights/999999`;
      const result = await cli(["-f", "json", "checkpoint", "delete", "-y", PUBLIC, missing]);
      assert.equal(result.code, 1, "a failed deletion is an error exit");
      await t.assertSnapshot(transcript(result));
    });
    await t.step("delete with no match", async () => {
      const result = await cli(["checkpoint", "delete", "--run-id", RUN, "--after", "2031-01-01"]);
      assert.equal(result.stdout, `No checkpoints found for run ${RUN} matching filters\n`);
    });
  } finally {
    await fake.close();
  }
});

Deno.test(`cli: errors have one message and a distinct exit code`, async (t) => {
  const { fake, cli, env } = await fixture();
  try {
    const cases: [string, string[], number, Record<string, string>?][] = [
      ["missing key", ["run", "list"], 3, { TINKER_API_KEY: "" }],
      ["wrong key", ["run", "list"], 3, { TINKER_API_KEY: "tml-wrong" }],
      ["not found", ["run", "info", "nope"], 4],
      ["checkpoint not in run", ["checkpoint", "info", `tinker://${RUN}/weights/424242`], 4],
      ["bad path prefix", ["checkpoint", "info", "run-1/weights/1"], 6],
      ["bad path shape", ["checkpoint", "publish", "tinker://run-1/weights"], 6],
      ["bad date", ["checkpoint", "delete", "--run-id", RUN, "--before", "01/15/2024"], 6],
      ["bad column", ["run", "list", "-c", "id,bogus"], 6],
      ["bad billing window", ["billing", "usage", "yesterday", "today"], 6],
      ["unknown command", ["runs", "list"], 2],
      ["unknown option", ["run", "list", "--bogus"], 2],
      ["missing argument", ["run", "info"], 2],
      ["bad integer", ["run", "list", "--limit", "x"], 2],
      ["bad format", ["-f", "xml", "run", "list"], 2],
      ["official exit codes", ["run", "info", "nope"], 1, { TINKER_CLI_EXIT_CODES: "official" }],
    ];
    for (const [name, args, code, extraEnv] of cases) {
      await t.step(name, async (t) => {
        const result = await cli(args, { env: extraEnv });
        assert.equal(result.code, code, transcript(result));
        assert.equal(result.stdout, "");
        assert.ok(!/\n\s+at /.test(result.stderr), "no stack trace");
        await t.assertSnapshot(transcript(result, [[fake.url, "<URL>"]]));
      });
    }
    await t.step("connection refused", async () => {
      const result = await runCli(["--max-retries", "0", "run", "list"], {
        env: { ...env, TINKER_BASE_URL: "http://127.0.0.1:9" },
      });
      assert.equal(result.code, 5, transcript(result));
      assert.match(result.stderr, /^Error: Connection failed\n/);
      assert.ok(!result.stderr.includes(env.TINKER_API_KEY), "the key is never printed");
    });
    await t.step("--verbose logs requests without the key", async () => {
      const result = await cli(["--verbose", "run", "info", "nope"]);
      assert.equal(result.code, 4);
      assert.match(
        result.stderr,
        /\[http\] GET .*\/api\/v1\/training_runs\/nope\?access_scope=owned -> 404/,
      );
      assert.ok(!result.stderr.includes(env.TINKER_API_KEY));
    });
    await t.step("server error", async () => {
      await fake.inject({ path: `/api/v1/training_runs/${RUN}`, status: 500, times: 10 });
      const result = await cli(["--max-retries", "0", "run", "info", RUN]);
      assert.equal(result.code, 1, transcript(result));
      assert.match(result.stderr, /^Error: Internal server error\n/);
    });
    await t.step("a bad value the library refuses is named by its flag", async () => {
      const result = await cli(["--max-retries", "-1", "run", "list"]);
      assert.equal(result.code, 6, transcript(result));
      assert.match(result.stderr, /^Error: Invalid --max-retries: /);
    });
    await t.step("an answer that does not match its type names the field", async () => {
      await fake.inject({ path: "/api/v1/training_runs", status: 200, body: { training_runs: 5 } });
      const result = await cli(["run", "list"]);
      assert.equal(result.code, 1, transcript(result));
      assert.match(result.stderr, /^Error: API error occurred\nDetails: .*"training_runs"/);
    });
  } finally {
    await fake.close();
  }
});

Deno.test(`cli: checkpoint download and trace export`, async (t) => {
  const { fake, cli } = await fixture();
  const dir = await mkdtemp(join(tmpdir(), "tinker-cli-test-"));
  const name = CKPT.replace("tinker://", "").replaceAll("/", "_");
  try {
    await t.step("export flow, table output", async (t) => {
      const result = await cli(["checkpoint", "download", CKPT, "-o", "out"], { cwd: dir });
      assert.equal(result.code, 0, transcript(result));
      await t.assertSnapshot(transcript(result));
      const files = (await readdir(join(dir, "out", name))).sort();
      assert.deepEqual(files, ["adapter_config.json", "adapter_model.safetensors"]);
      assert.deepEqual(await readdir(join(dir, "out")), [name], "no temporary directory left");
    });
    await t.step("existing target without --force", async () => {
      const result = await cli(["checkpoint", "download", CKPT, "-o", "out"], { cwd: dir });
      assert.equal(result.code, 6);
      assert.match(result.stderr, /^Error: Target directory already exists: out\//);
    });
    await t.step("--force, gzip archive (no session routes), JSON output", async (t) => {
      await fake.setOptions({ archiveGzip: true, sessionRoutes: false });
      const result = await cli([
        "-f",
        "json",
        "checkpoint",
        "download",
        CKPT,
        "-o",
        "./out/",
        "--force",
      ], {
        cwd: dir,
      });
      assert.equal(result.code, 0, transcript(result));
      await t.assertSnapshot(transcript(result));
      const config = JSON.parse(
        await readFile(join(dir, "out", name, "adapter_config.json"), "utf8"),
      );
      assert.equal(config.peft_type, "LORA");
      assert.ok((await readdir(join(dir, "out", name))).includes("checkpoint_complete"));
      await fake.setOptions({ archiveGzip: false, sessionRoutes: true });
    });
    await t.step("truncated transfer leaves nothing", async () => {
      await fake.inject({ target: "storage", path: /safetensors$/, truncate: 10_000 });
      const result = await cli(["checkpoint", "download", CKPT, "-o", "cut"], { cwd: dir });
      assert.equal(result.code, 5, transcript(result));
      assert.match(result.stderr, /Error: Failed to download checkpoint: /);
      assert.deepEqual(await readdir(join(dir, "cut")), []);
    });
    await t.step("external weights, file by file", async (t) => {
      const result = await cli(["-f", "json", "checkpoint", "download", EXTERNAL, "-o", "ext"], {
        cwd: dir,
      });
      assert.equal(result.code, 0, transcript(result));
      await t.assertSnapshot(transcript(result));
      const extName = EXTERNAL.replace("tinker://", "").replaceAll("/", "_");
      assert.ok((await readdir(join(dir, "ext", extName))).length > 0);
    });
    await t.step("trace export to a file", async (t) => {
      const result = await cli(
        ["session", "export-trace", FAKE_IDS.sessionId, "-o", "traces/s.pftrace"],
        { cwd: dir },
      );
      assert.equal(result.code, 0, transcript(result));
      await t.assertSnapshot(transcript(result));
      assert.ok((await stat(join(dir, "traces", "s.pftrace"))).size > 0);
    });
    await t.step("a truncated trace transfer leaves no file", async () => {
      await fake.inject({ target: "storage", truncate: 10 }); // The trace is ~40 bytes.
      const result = await cli(
        ["session", "export-trace", FAKE_IDS.sessionId, "-o", "cut-traces/s.pftrace"],
        { cwd: dir },
      );
      assert.equal(result.code, 5, transcript(result));
      assert.match(result.stderr, /^Error: Failed to download trace: /m);
      assert.deepEqual(await readdir(join(dir, "cut-traces")), []);
    });
    await t.step("a trace that cannot be saved is a local failure (exit 7)", async () => {
      await writeFile(join(dir, "a-file"), "not a directory");
      await mkdir(join(dir, "a-dir"));
      for (const output of ["a-file/s.pftrace", "a-dir"]) {
        const result = await cli(
          ["session", "export-trace", FAKE_IDS.sessionId, "-o", output],
          { cwd: dir },
        );
        assert.equal(result.code, 7, transcript(result));
        assert.match(result.stderr, /^Error: Failed to save trace: /m);
      }
      assert.deepEqual((await readdir(join(dir, "a-dir"))).length, 0);
    });
    await t.step("a CSV that cannot be written is a local failure (exit 7)", async () => {
      const result = await cli(
        [
          "billing",
          "usage",
          "2026-07-13T05:00:00Z",
          "2026-07-13T06:00:00Z",
          "--csv",
          "a-file/usage.csv",
        ],
        { cwd: dir },
      );
      assert.equal(result.code, 7, transcript(result));
      assert.match(result.stderr, /^Error: Failed to write CSV: /m);
    });
    await t.step("a truncated external weights file leaves nothing", async () => {
      await fake.inject({ target: "storage", truncate: 100 });
      const result = await cli(["checkpoint", "download", EXTERNAL, "-o", "ext-cut"], {
        cwd: dir,
      });
      assert.equal(result.code, 5, transcript(result));
      assert.match(result.stderr, /^Error: Failed to download checkpoint: /);
      assert.deepEqual(await readdir(join(dir, "ext-cut")), []);
    });
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
});

Deno.test({
  name:
    "cli: Ctrl-C or SIGTERM mid-download deletes the export, finishes the session, leaves no partial directory and exits 130 or 143",
  ignore: Deno.build.os === "windows",
  async fn(t) {
    const { fake, cli } = await fixture();
    const dir = await mkdtemp(join(tmpdir(), "tinker-cli-signal-"));
    /** The entries of `out` (none when it is not there yet). */
    const entries = (out: string) => readdir(join(dir, out)).catch(() => [] as string[]);
    const exportDeletes = () =>
      fake.log.filter((r) =>
        r.method === "DELETE" && r.path.endsWith("/checkpoints/external_weights/download")
      );
    /**
     * Starts `checkpoint download` into `out` as a program of its own (a real
     * signal needs one) and waits until it is mid-download: the big file's
     * answer is held back, the partial directory made.
     */
    const midDownload = async (out: string) => {
      fake.log.length = fake.storageLog.length = 0;
      await fake.inject({ target: "storage", path: /safetensors$/, delayMs: 60_000 });
      let send!: (signal: "SIGINT" | "SIGTERM") => void;
      let exited = false;
      const running = cli(["checkpoint", "download", CKPT, "-o", out], {
        cwd: dir,
        spawn: true,
        onSpawn: (kill) => (send = kill),
      }).finally(() => (exited = true));
      const there = async () =>
        fake.storageLog.some((r) => r.path.endsWith("safetensors")) &&
        (await entries(out)).some((p) => /^\..*\.partial-\d+-/.test(p));
      for (let i = 0; i < 600 && !exited && !(await there()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(await there(), `never got mid-download: ${await entries(out)}`);
      return { running, send };
    };
    const cases: ["SIGINT" | "SIGTERM", number, RegExp][] = [
      ["SIGINT", 130, /^Interrupted/m],
      ["SIGTERM", 143, /^Terminated/m],
    ];
    try {
      for (const [signal, code, message] of cases) {
        await t.step(`${signal}: cleanup, then exit ${code}`, async () => {
          const out = `out-${signal}`;
          const { running, send } = await midDownload(out);
          send(signal);
          const result = await running;
          assert.equal(result.killedBy, undefined, `killed, no cleanup: ${transcript(result)}`);
          assert.equal(result.code, code, transcript(result));
          assert.match(result.stderr, message);
          assert.deepEqual(exportDeletes().map((r) => r.status), [204], "the export was deleted");
          const finishes = fake.log.filter((r) =>
            /^\/api\/v1\/sessions\/[^/]+\/finish$/.test(r.path)
          );
          assert.deepEqual(
            finishes.map((r) => [(r.json as { reason: { type: string } }).reason.type, r.status]),
            [["errored", 204]],
            "the session was finished",
          );
          assert.deepEqual(await entries(out), [], "no partial directory left");
        });
      }
      await t.step("a second SIGTERM during the cleanup exits 143 at once", async () => {
        const { running, send } = await midDownload("out-twice");
        // The export's deletion is held back: the cleanup is under way when the second signal comes.
        await fake.inject({
          method: "DELETE",
          path: /external_weights\/download$/,
          delayMs: 60_000,
        });
        send("SIGTERM");
        for (let i = 0; i < 600 && exportDeletes().length === 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(exportDeletes().length, 1, "the cleanup never started");
        send("SIGTERM");
        const result = await running;
        assert.equal(result.killedBy, undefined, transcript(result));
        assert.equal(result.code, 143, transcript(result));
        // Had it waited for the grace period to end, it would have said so.
        assert.doesNotMatch(result.stderr, /Terminated/, transcript(result));
      });
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
});

Deno.test(`cli: the bootstrap cache one command writes is what the next uses`, async () => {
  const { fake, cli } = await fixture();
  const home = await mkdtemp(join(tmpdir(), "tinker-cli-cache-"));
  const env = { HOME: home, XDG_CACHE_HOME: join(home, "cache") };
  const bootstraps = () => {
    const n = fake.log.filter((r) => r.path === "/api/v1/client/config").length;
    fake.log.length = 0;
    return n;
  };
  try {
    // The write runs after the command's own request is sent (a later task in
    // Bun): it must still be on disk when the process has exited.
    const first = await cli(["run", "list"], { env });
    assert.equal(first.code, 0, transcript(first));
    assert.equal(bootstraps(), 1);
    const file = join(home, "cache", "tinker-ts", "bootstrap.json");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok(!(await readFile(file, "utf8")).includes(fake.apiKey), "no key in the file");
    const second = await cli(["run", "list"], { env });
    assert.equal(second.code, 0, transcript(second));
    assert.equal(second.stdout, first.stdout);
    assert.equal(bootstraps(), 0, "the second command sent no bootstrap");
  } finally {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  }
});

Deno.test(`cli: the bootstrap cache file is replaced whole, and one not safely ours is not read`, async (t) => {
  const { fake, cli } = await fixture();
  const home = await mkdtemp(join(tmpdir(), "tinker-cli-cache-"));
  const env = { HOME: home, XDG_CACHE_HOME: join(home, "cache") };
  const dir = join(home, "cache", "tinker-ts");
  const file = join(dir, "bootstrap.json");
  const bootstraps = () => {
    const n = fake.log.filter((r) => r.path === "/api/v1/client/config").length;
    fake.log.length = 0;
    return n;
  };
  /** Runs `run list`; returns how many bootstraps it sent. */
  const runList = async () => {
    const result = await cli(["run", "list", "--limit", "1"], { env });
    assert.equal(result.code, 0, transcript(result));
    return bootstraps();
  };
  try {
    assert.equal(await runList(), 1);
    assert.equal(await runList(), 0, "a file of ours, private: read");

    // Each spoilt file is ignored, and the file the command writes is a new
    // one renamed over it (another inode): the old file, still reachable
    // through a second link, is never written in place.
    const cases: [string, () => Promise<void>, boolean][] = [
      ["a file others may write", () => chmod(file, 0o666), true],
      ["a file owned by another user", () => chown(file, 65534, 65534), Deno.uid() === 0],
    ];
    for (const [name, spoil, possible] of cases) {
      await t.step({
        name: `${name}: not read; replaced by a new private file`,
        ignore: !possible,
        fn: async () => {
          await spoil();
          const old = join(home, "old-link.json");
          await rm(old, { force: true });
          await link(file, old);
          const before = await stat(file);
          const text = await readFile(file, "utf8");
          assert.equal(await runList(), 1);
          const after = await stat(file);
          assert.notEqual(after.ino, before.ino, "a new file renamed into place");
          assert.equal(after.mode & 0o777, 0o600);
          assert.equal(after.uid, Deno.uid());
          assert.equal(await readFile(old, "utf8"), text, "the old file was not written");
          assert.deepEqual(await readdir(dir), ["bootstrap.json"], "no temp file left");
          assert.equal(await runList(), 0, "the new file is read");
        },
      });
    }
    await t.step({
      name: "a named pipe: not opened (that would block); replaced by a file",
      ignore: Deno.build.os === "windows",
      fn: async () => {
        await rm(file);
        const made = await new Deno.Command("mkfifo", { args: ["-m", "600", file] }).output();
        assert.ok(made.success, new TextDecoder().decode(made.stderr));
        assert.equal(await runList(), 1);
        assert.ok((await stat(file)).isFile());
        assert.equal(await runList(), 0);
      },
    });
  } finally {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  }
});
