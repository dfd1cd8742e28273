// The CLI against servers built to misbehave: server text that would drive
// the terminal, pax and gzip bombs (peak memory measured in a subprocess),
// transfers that stall or never end, partial directories left by SIGKILL,
// `file:` URLs handed out by the server, gzip Content-Encoding, and the
// smaller breaks (name collisions, negative limits, failed deletions,
// endless pages). Each attack is served by a local server started here.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createGzip, gzipSync } from "node:zlib";
import { FAKE_IDS, type FakeTinker, startFakeTinker } from "../testing/mod.ts";
import { main } from "../cli/_entry.ts";
import { checkServerUrl } from "../cli/_fetch.ts";
import { readTar, tarBytes, tarHeader, type TarWriteEntry } from "../cli/_tar.ts";
import { Context } from "../cli/_context.ts";
import { fetchPaged } from "../cli/_run.ts";
import { parseCommandLine } from "../cli/_args.ts";
import { listTree, UNSAFE_CHARS, within } from "./_reliability.ts";

/**
 * The fakes here serve weights/ downloads through the archive route, as a
 * server without session routes does (the CLI falls back to it): the tar
 * reader's defences are what these tests attack. The export flow has its own
 * tests (tests/export_download_test.ts).
 */
const ARCHIVE_ROUTE = { sessionRoutes: false };

const RUN = FAKE_IDS.run;
const CKPT = FAKE_IDS.checkpointPath;
const NAME = CKPT.replace("tinker://", "").replaceAll("/", "_");
const EXTERNAL = (FAKE_IDS as unknown as { externalCheckpointPath: string }).externalCheckpointPath;
const SESSION = FAKE_IDS.sessionId;
const ESCAPES = "\x1b]0;pwned\x07\x1b[2J\rHIDDEN\u009b31m\u202eRTL";
const text = (s: string) => new TextEncoder().encode(s);
const GOOD: TarWriteEntry[] = [
  { name: "adapter_config.json", data: text('{"r": 8}') },
  { name: "adapter_model.safetensors", data: text("weights") },
];

// ---- servers and runs ------------------------------------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** A storage server whose answer each test sets (`handle`); counts the bytes it wrote. */
async function storageServer() {
  const state = { handle: ((_req, res) => res.end()) as Handler, sent: 0, closed: 0 };
  const server = createServer((req, res) => {
    res.on("close", () => state.closed++);
    Promise.resolve(state.handle(req, res)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    state,
    url: `http://127.0.0.1:${port}`,
    /** Writes `chunks` with backpressure until they end or the client goes away. */
    async pump(res: ServerResponse, chunks: Iterable<Uint8Array>, end = true) {
      for (const chunk of chunks) {
        if (res.destroyed || res.writableEnded) return;
        state.sent += chunk.byteLength;
        if (!res.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off("drain", done).off("close", done);
              resolve();
            };
            res.on("drain", done).on("close", done);
          });
        }
      }
      if (end && !res.destroyed) res.end();
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Run {
  code: number;
  out: string;
  err: string;
}

/** One in-process CLI run against `fake`. */
async function cli(
  fake: FakeTinker,
  args: string[],
  options: { cwd?: string; stdin?: string; stderrIsTTY?: boolean } = {},
): Promise<Run> {
  let out = "", err = "";
  const code = await main(args, {
    env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url, NO_COLOR: "1" },
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    stdin: options.stdin ?? "",
    isTTY: false,
    stderrIsTTY: options.stderrIsTTY ?? false,
    columns: 120,
    ...(options.cwd && { cwd: options.cwd }),
  });
  return { code, out, err };
}

/** The archive of every checkpoint is served from `url`. */
function archiveAt(fake: FakeTinker, url: string) {
  return fake.inject({ path: /\/archive$/, status: 302, headers: { location: url }, times: 20 });
}

/** The external-weights checkpoint lists these files. */
function externalFiles(fake: FakeTinker, urls: Record<string, string>) {
  return fake.inject({
    path: /\/external_weights_urls$/,
    status: 200,
    body: { urls, expires: new Date(Date.now() + 3_600_000).toISOString() },
    times: 20,
  });
}

/** The session's trace export is ready at `url`. */
function traceAt(fake: FakeTinker, url: string) {
  return fake.inject({
    path: /\/trace_export$/,
    status: 200,
    body: { status: "ready", url, error: null },
    times: 20,
  });
}

/** A temporary directory, removed at the end of the scope. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "tinker-hostile-cli-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** Runs the CLI in a fresh Deno process; returns its exit code, output and peak RSS (MiB). */
async function cliProcess(fake: FakeTinker, args: string[], cwd: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_peak_rss.ts", import.meta.url).pathname, ...args],
    cwd,
    env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url, NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  const kib = Number(/peak-rss-kib (\d+)\s*$/.exec(err)?.[1]);
  assert.ok(Number.isFinite(kib), `no peak reported: ${err}`);
  return { code, out: new TextDecoder().decode(stdout), err, peakMiB: kib / 1024 };
}

/** No raw control or bidi character; `allowed` (our own progress drawing) removed first. */
function assertInert(output: string, what: string, allowed: string[] = []) {
  let rest = output;
  for (const a of allowed) rest = rest.replaceAll(a, "");
  assert.doesNotMatch(rest, UNSAFE_CHARS, `${what} carries a raw control character`);
}

const LINUX = Deno.build.os === "linux";

// ---- 3. server text never drives the terminal ----------------------------------------

Deno.test("server text reaching the terminal is shown, never obeyed", async (t) => {
  await using fake = await startFakeTinker({ ...ARCHIVE_ROUTE, tracePendingCount: 0 });
  await using storage = await storageServer();
  await using tmp = await tempDir();
  const dir = tmp.path;

  await t.step("a non-JSON error body in Details:", async () => {
    await fake.inject({
      path: `/api/v1/training_runs/${RUN}`,
      status: 404,
      headers: { "content-type": "text/plain" },
      body: `no such run${ESCAPES}`,
    });
    const got = await cli(fake, ["run", "info", RUN]);
    assert.equal(got.code, 4, got.err);
    assert.match(got.err, /Details: no such run\\u001b\]0;pwned\\u0007\\u001b\[2J\\u000dHIDDEN/);
    assertInert(got.err, "stderr");
  });

  await t.step("the confirmation list of checkpoint delete --run-id", async () => {
    const checkpoint = fake.state!.checkpoint(RUN, "weights/000010")!;
    const real = checkpoint.tinker_path;
    checkpoint.tinker_path = `${real}\r\x1b[2J\x1b[1A`;
    try {
      const got = await cli(fake, ["checkpoint", "delete", "--run-id", RUN], { stdin: "n\n" });
      assert.equal(got.code, 0, got.err);
      assert.match(got.out, /Deletion cancelled/);
      assert.ok(got.out.includes(`${real}\\u000d\\u001b[2J\\u001b[1A (`), got.out);
      assertInert(got.out, "stdout");
    } finally {
      checkpoint.tinker_path = real;
    }
    await fake.reset();
  });

  await t.step("the unsafe file path error of external weights", async () => {
    await externalFiles(fake, { [`../${ESCAPES}`]: `${storage.url}/x` });
    const got = await cli(fake, ["checkpoint", "download", EXTERNAL, "-o", "out"], { cwd: dir });
    assert.equal(got.code, 7, got.err);
    assert.match(got.err, /Unsafe file path in checkpoint: "\.\.\/\\u001b\]0;pwned/);
    assertInert(got.err, "stderr");
    assert.deepEqual(await listTree(dir), ["out/"]);
    await fake.reset();
  });

  await t.step("the download progress label on a terminal", async () => {
    storage.state.handle = (_req, res) => res.end("weights");
    const name = `adapter${ESCAPES}.bin`;
    await externalFiles(fake, { [name]: `${storage.url}/f` });
    const got = await cli(fake, ["checkpoint", "download", EXTERNAL, "-o", "tty"], {
      cwd: dir,
      stderrIsTTY: true,
    });
    assert.equal(got.code, 0, got.err);
    assert.match(got.err, /\radapter\\u001b\]0;pwned\\u0007\\u001b\[2J\\u000dHIDDEN/);
    // The bar's own carriage returns and erase-line are its drawing, not server text.
    assertInert(got.err, "stderr", ["\r", "\x1b[K"]);
    await fake.reset();
  });

  await t.step("session export-trace --url-only", async () => {
    await traceAt(fake, `https://storage.example/trace\u202egnp.exe?sig=${ESCAPES}`);
    const got = await cli(fake, ["session", "export-trace", SESSION, "--url-only"]);
    assert.equal(got.code, 0, got.err);
    assert.ok(got.out.startsWith("https://storage.example/trace\\u202egnp.exe?sig="), got.out);
    assertInert(got.out, "stdout");
    assert.equal(got.out.split("\n").length, 2, "one line");
    await fake.reset();
  });

  await t.step("tar errors quote names and type bytes inertly", async () => {
    const cases: [TarWriteEntry[], RegExp][] = [
      [[{ name: `link\u202eexe.txt`, type: "2", linkname: "/etc" }], /link\\u202eexe\.txt/],
      [[{ name: `odd${ESCAPES}`, type: "\x1b" }], /type '\\u001b' for "odd\\u001b\]0;pwned/],
      [[{ name: `/abs${ESCAPES}`, data: text("x") }], /absolute path.*\/abs\\u001b/],
    ];
    for (const [entries, expected] of cases) {
      const archive = tarBytes(entries);
      storage.state.handle = (_req, res) => res.end(archive);
      await archiveAt(fake, `${storage.url}/a.tar`);
      const got = await cli(fake, ["checkpoint", "download", CKPT, "-o", "tar", "--force"], {
        cwd: dir,
      });
      assert.equal(got.code, 7, got.err);
      assert.match(got.err, expected);
      assertInert(got.err, "stderr");
      // The reader's own message is inert too (it may be shown by other callers).
      const error = await readTar(new Blob([archive as Uint8Array<ArrayBuffer>]).stream(), {
        directory: () => Promise.resolve(),
        file: async (_e, data) => {
          for await (const _ of data);
        },
      }).then(() => undefined, (e: Error) => e);
      assert.ok(error instanceof Error);
      assertInert(error.message, "TarError message");
      await fake.reset();
    }
  });
});

// ---- 4. pax metadata bomb ------------------------------------------------------------

/** A pax `x` header whose one record is about `bytes` long, under key `key`. */
function paxHeader(key: string, bytes: number): Uint8Array[] {
  const body = ` ${key}=${"v".repeat(bytes)}\n`;
  let length = body.length + 1;
  while (String(length).length + body.length !== length) {
    length = String(length).length + body.length;
  }
  const record = text(`${length}${body}`);
  const pad = (512 - (record.byteLength % 512)) % 512;
  return [
    tarHeader({ name: "PaxHeaders/x", type: "x", size: record.byteLength }),
    record,
    new Uint8Array(pad),
  ];
}

Deno.test({
  name: "a pax metadata bomb (3,000 headers of 1 MiB) is refused at 4 MiB with flat memory",
  ignore: !LINUX,
  async fn() {
    await using fake = await startFakeTinker(ARCHIVE_ROUTE);
    await using storage = await storageServer();
    await using tmp = await tempDir();
    const dir = tmp.path;
    const total = 3000;
    storage.state.handle = (_req, res) => {
      res.writeHead(200, { "content-type": "application/x-tar" });
      return storage.pump(
        res,
        (function* () {
          for (let i = 0; i < total; i++) yield* paxHeader(`k${i}`, (1 << 20) - 64);
          yield tarBytes(GOOD);
        })(),
      );
    };
    await archiveAt(fake, `${storage.url}/bomb.tar`);
    const got = await cliProcess(fake, ["checkpoint", "download", CKPT, "-o", "out"], dir);
    assert.equal(got.code, 7, got.err);
    assert.match(got.err, /header records before one entry exceed 4194304 bytes/);
    assert.ok(got.peakMiB < 256, `peak RSS ${got.peakMiB.toFixed(0)} MiB`);
    assert.ok(storage.state.sent < 64 << 20, `the server wrote ${storage.state.sent} bytes`);
    assert.deepEqual(await listTree(dir), ["out/"]);
  },
});

// ---- 5. gzip bomb ------------------------------------------------------------------

/** `prefix`, then `zeros` zero bytes, then `suffix`, gzipped (a bomb: ~1,000:1). */
async function gzipBomb(prefix: Uint8Array, zeros: number, suffix: Uint8Array): Promise<Buffer> {
  const gzip = createGzip({ level: 6 });
  const out: Buffer[] = [];
  gzip.on("data", (b: Buffer) => out.push(b));
  const ended = new Promise((resolve) => gzip.on("end", resolve));
  gzip.write(prefix);
  const zero = Buffer.alloc(1 << 20);
  for (let left = zeros; left > 0; left -= zero.byteLength) {
    if (!gzip.write(left >= zero.byteLength ? zero : zero.subarray(0, left))) {
      await new Promise((resolve) => gzip.once("drain", resolve));
    }
  }
  gzip.end(suffix);
  await ended;
  return Buffer.concat(out);
}

Deno.test({
  name: "a gzip bomb (1 MB expanding to 1 GiB) is gunzipped with bounded memory",
  ignore: !LINUX,
  async fn() {
    await using fake = await startFakeTinker(ARCHIVE_ROUTE);
    await using storage = await storageServer();
    await using tmp = await tempDir();
    const dir = tmp.path;
    // A directory entry that claims 1 GiB of data: the reader reads through it
    // without writing, so the run measures the gunzip alone.
    const size = 1 << 30;
    const bomb = await gzipBomb(
      tarHeader({ name: "d", type: "5", size }),
      size,
      tarBytes(GOOD),
    );
    assert.ok(bomb.byteLength < 2 << 20, `the bomb is ${bomb.byteLength} bytes`);
    storage.state.handle = (_req, res) => res.end(bomb);
    await archiveAt(fake, `${storage.url}/bomb.tar.gz`);
    const got = await cliProcess(fake, ["checkpoint", "download", CKPT, "-o", "out"], dir);
    assert.equal(got.code, 0, got.err);
    assert.ok(got.peakMiB < 320, `peak RSS ${got.peakMiB.toFixed(0)} MiB`);
    assert.deepEqual(await listTree(`${dir}/out/${NAME}`), [
      "adapter_config.json",
      "adapter_model.safetensors",
      "d/",
    ]);
  },
});

Deno.test("--max-size caps what an archive may write: a clear error, nothing left", async (t) => {
  await using fake = await startFakeTinker(ARCHIVE_ROUTE);
  await using storage = await storageServer();
  await using tmp = await tempDir();
  const dir = tmp.path;
  const cases: [string, () => Promise<Uint8Array>][] = [
    ["one file declaring 256 MiB", () =>
      gzipBomb(
        tarHeader({ name: "big.bin", size: 256 << 20 }),
        256 << 20,
        new Uint8Array(1024),
      )],
    ["many 1 MiB files adding up past the cap", () =>
      gzipBomb(
        new Uint8Array(),
        0,
        tarBytes(Array.from({ length: 80 }, (_, i) => ({ name: `f${i}.bin`, size: 1 << 20 }))),
      )],
  ];
  for (const [name, build] of cases) {
    await t.step(`${name}: refused with exit 7 under --max-size 64M`, async () => {
      const bomb = await build();
      storage.state.handle = (_req, res) => res.end(bomb);
      await archiveAt(fake, `${storage.url}/bomb.tar.gz`);
      const got = await cli(fake, [
        "checkpoint",
        "download",
        CKPT,
        "-o",
        "out",
        "--max-size",
        "64M",
      ], { cwd: dir });
      assert.equal(got.code, 7, got.err);
      assert.match(got.err, /larger than the 64\.0 MB allowed \(--max-size 67108864\)/);
      assert.deepEqual(await listTree(dir), ["out/"], "nothing left behind");
      await fake.reset();
    });
  }
  await t.step("a plain download larger than the cap stops at the cap", async () => {
    storage.state.handle = (_req, res) => {
      res.writeHead(200);
      return storage.pump(
        res,
        (function* () {
          const chunk = new Uint8Array(1 << 20);
          for (let i = 0; i < 4096; i++) yield chunk;
        })(),
      );
    };
    await externalFiles(fake, { "huge.bin": `${storage.url}/huge` });
    const got = await cli(fake, [
      "checkpoint",
      "download",
      EXTERNAL,
      "-o",
      "ext",
      "--max-size",
      "8M",
    ], { cwd: dir });
    assert.equal(got.code, 7, got.err);
    assert.match(got.err, /--max-size 8388608/);
    assert.ok(storage.state.sent < 256 << 20, `${storage.state.sent} bytes sent`);
    assert.deepEqual(await listTree(`${dir}/ext`), []);
  });
  await t.step("a bad --max-size is refused before anything is sent", async () => {
    await fake.clearLog();
    const got = await cli(fake, ["checkpoint", "download", CKPT, "--max-size", "lots"], {
      cwd: dir,
    });
    assert.equal(got.code, 6, got.err);
    assert.match(got.err, /Invalid value for '--max-size': "lots"/);
    assert.equal(fake.log.length, 0);
  });
});

// ---- 6. downloads never hang ---------------------------------------------------------

Deno.test("transfers that stall or never end are stopped", async (t) => {
  await using fake = await startFakeTinker({ ...ARCHIVE_ROUTE, tracePendingCount: 0 });
  await using storage = await storageServer();
  await using tmp = await tempDir();
  const dir = tmp.path;
  const archive = tarBytes(GOOD);

  await t.step("a stall before the headers ends after --idle-timeout", async () => {
    storage.state.handle = () => {}; // reads the request, never answers
    await archiveAt(fake, `${storage.url}/a.tar`);
    const got = await within(
      30_000,
      "the download",
      cli(fake, ["checkpoint", "download", CKPT, "-o", "out", "--idle-timeout", "1"], {
        cwd: dir,
      }),
    );
    assert.equal(got.code, 5, got.err);
    assert.match(got.err, /the server sent nothing for 1 s \(--idle-timeout\)/);
    assert.deepEqual(await listTree(dir), ["out/"]);
    await fake.reset();
  });

  await t.step("a stall after the headers ends after --idle-timeout", async () => {
    storage.state.handle = (_req, res) => {
      res.writeHead(200, { "content-length": String(archive.byteLength) });
      res.write(archive.subarray(0, 700)); // then nothing, the connection open
    };
    await archiveAt(fake, `${storage.url}/a.tar`);
    const got = await within(
      30_000,
      "the download",
      cli(fake, ["checkpoint", "download", CKPT, "-o", "out", "--idle-timeout", "1"], {
        cwd: dir,
      }),
    );
    assert.equal(got.code, 5, got.err);
    assert.match(got.err, /sent nothing for 1 s/);
    assert.deepEqual(await listTree(dir), ["out/"]);
    await fake.reset();
  });

  await t.step("a trace transfer that stalls ends too", async () => {
    storage.state.handle = (_req, res) => {
      res.writeHead(200);
      res.write("partial");
    };
    await traceAt(fake, `${storage.url}/t.pftrace`);
    const got = await within(
      30_000,
      "the export",
      cli(fake, ["session", "export-trace", SESSION, "-o", "t.pftrace", "--idle-timeout", "1"], {
        cwd: dir,
      }),
    );
    assert.equal(got.code, 5, got.err);
    assert.deepEqual(await listTree(dir), ["out/"], "no trace file, no part file");
    await fake.reset();
  });

  await t.step("endless bytes after the end-of-archive marker are not read", async () => {
    storage.state.sent = 0;
    storage.state.handle = (_req, res) => {
      res.writeHead(200, { "content-type": "application/x-tar" }); // no length: until close
      return storage.pump(
        res,
        (function* () {
          yield archive;
          const junk = new Uint8Array(1 << 20).fill(0x41);
          for (;;) yield junk;
        })(),
      );
    };
    await archiveAt(fake, `${storage.url}/a.tar`);
    const got = await within(
      30_000,
      "the download",
      cli(fake, ["checkpoint", "download", CKPT, "-o", "out"], { cwd: dir }),
    );
    assert.equal(got.code, 0, got.err);
    assert.deepEqual(await listTree(`${dir}/out/${NAME}`), [
      "adapter_config.json",
      "adapter_model.safetensors",
    ]);
    assert.ok(storage.state.sent < 64 << 20, `the server wrote ${storage.state.sent} bytes`);
    await Deno.remove(`${dir}/out/${NAME}`, { recursive: true });
    await fake.reset();
  });
});

Deno.test({
  name: "a partial directory left by a SIGKILLed download is removed by the next run",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using fake = await startFakeTinker(ARCHIVE_ROUTE);
    await using storage = await storageServer();
    await using tmp = await tempDir();
    const dir = tmp.path;
    const archive = tarBytes(GOOD);
    let stalled = true;
    storage.state.handle = (_req, res) => {
      res.writeHead(200, { "content-length": String(archive.byteLength) });
      if (stalled) res.write(archive.subarray(0, 1024)); // and hang
      else res.end(archive);
    };
    await archiveAt(fake, `${storage.url}/a.tar`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../cli/_entry.ts", import.meta.url).pathname, ...[
        "checkpoint",
        "download",
        CKPT,
        "-o",
        "out",
      ]],
      cwd: dir,
      env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
      clearEnv: true,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const partials = async () =>
      (await listTree(`${dir}/out`)).filter((p) => /^\.[^/]*\.partial-\d+-[^/]*\/$/.test(p));
    try {
      await within(
        60_000,
        "the partial directory",
        (async () => {
          while ((await partials()).length === 0) await new Promise((r) => setTimeout(r, 50));
        })(),
      );
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    const [dead] = await partials();
    assert.ok(dead, "the killed run left its partial directory");
    // A download still running in this process keeps its partial directory.
    const live = `.${NAME}.partial-${Deno.pid}-live`;
    await Deno.mkdir(`${dir}/out/${live}`);
    stalled = false;
    const got = await cli(fake, ["checkpoint", "download", CKPT, "-o", "out"], { cwd: dir });
    assert.equal(got.code, 0, got.err);
    assert.deepEqual(await listTree(`${dir}/out`), [
      `${live}/`,
      `${NAME}/`,
      `${NAME}/adapter_config.json`,
      `${NAME}/adapter_model.safetensors`,
    ]);
  },
});

Deno.test("a part file left by a killed trace export is removed by the next one", async () => {
  await using fake = await startFakeTinker({ ...ARCHIVE_ROUTE, tracePendingCount: 0 });
  await using storage = await storageServer();
  await using tmp = await tempDir();
  const dir = tmp.path;
  storage.state.handle = (_req, res) => res.end("trace");
  await traceAt(fake, `${storage.url}/t.pftrace`);
  // No process has id 2^31 - 1 here; this test's process is alive.
  await Deno.writeTextFile(`${dir}/t.pftrace.part-2147483647-dead`, "stale");
  await Deno.writeTextFile(`${dir}/t.pftrace.part-${Deno.pid}-live`, "running");
  const got = await cli(fake, ["session", "export-trace", SESSION, "-o", "t.pftrace"], {
    cwd: dir,
  });
  assert.equal(got.code, 0, got.err);
  assert.deepEqual(await listTree(dir), ["t.pftrace", `t.pftrace.part-${Deno.pid}-live`]);
});

// ---- 7. file: and other schemes from the server --------------------------------------

Deno.test("URLs from the server that are not http(s) are refused, never fetched", async (t) => {
  await using fake = await startFakeTinker({ ...ARCHIVE_ROUTE, tracePendingCount: 0 });
  await using storage = await storageServer();
  await using tmp = await tempDir();
  const dir = tmp.path;
  const secret = `${dir}/secret.txt`;
  await Deno.writeTextFile(secret, "local secret");
  const fileUrl = new URL(`file://${secret}`).href;
  const refused = (got: Run) => {
    assert.equal(got.code, 7, got.err);
    assert.match(got.err, /refusing a "file:" URL from the server/);
    assert.doesNotMatch(got.err, /network/i, "no network hint");
    assert.doesNotMatch(got.out + got.err, /local secret/);
  };

  await t.step("the archive's Location", async () => {
    await archiveAt(fake, fileUrl);
    const got = await cli(fake, ["checkpoint", "download", CKPT, "-o", "out"], { cwd: dir });
    refused(got);
    assert.deepEqual(await listTree(`${dir}/out`), []);
    await fake.reset();
  });

  await t.step("an external-weights file URL", async () => {
    await externalFiles(fake, { "adapter_config.json": fileUrl });
    const got = await cli(fake, ["checkpoint", "download", EXTERNAL, "-o", "out"], { cwd: dir });
    refused(got);
    assert.deepEqual(await listTree(`${dir}/out`), []);
    await fake.reset();
  });

  await t.step("the trace URL, downloaded or printed", async () => {
    await traceAt(fake, fileUrl);
    refused(await cli(fake, ["session", "export-trace", SESSION, "-o", "t.pftrace"], { cwd: dir }));
    refused(await cli(fake, ["session", "export-trace", SESSION, "--url-only"], { cwd: dir }));
    assert.equal(await Deno.stat(`${dir}/t.pftrace`).then(() => true, () => false), false);
    await fake.reset();
  });

  await t.step("a storage redirect to file: is not followed", async () => {
    storage.state.handle = (_req, res) => {
      res.writeHead(302, { location: fileUrl });
      res.end();
    };
    await externalFiles(fake, { "adapter_config.json": `${storage.url}/r` });
    const got = await cli(fake, ["checkpoint", "download", EXTERNAL, "-o", "out"], { cwd: dir });
    assert.notEqual(got.code, 0, "a followed redirect would have copied the local file");
    assert.doesNotMatch(got.out + got.err, /local secret/);
    assert.deepEqual(await listTree(`${dir}/out`), []);
    await fake.reset();
  });

  await t.step("the rule: https, or http to loopback or under an http API", () => {
    const words = { label: "", failure: "Failed", hint: "" };
    const ok = (url: string, base: string) => checkServerUrl(url, base, words).href;
    const no = (url: string, base: string, message: RegExp) =>
      assert.throws(() => checkServerUrl(url, base, words), message);
    const api = "https://tinker.example";
    assert.ok(ok("https://storage.example/x", api));
    assert.ok(ok("http://127.0.0.1:9/x", api));
    assert.ok(ok("http://[::1]:9/x", api));
    assert.ok(ok("http://localhost:9/x", api));
    assert.ok(ok("http://storage.internal/x", "http://tinker.internal"));
    no("http://storage.example/x", api, /plain http: download URL.*"storage\.example"/);
    no("file:///etc/passwd", api, /"file:"/);
    no("data:text/plain,hi", api, /"data:"/);
    no("ftp://storage.example/x", api, /"ftp:"/);
    no("not a url", api, /not a URL: "not a url"/);
  });
});

// ---- 8. Content-Encoding with Content-Length -----------------------------------------

Deno.test("a gzip Content-Encoding with a Content-Length downloads intact", async (t) => {
  await using fake = await startFakeTinker({ ...ARCHIVE_ROUTE, tracePendingCount: 0 });
  await using storage = await storageServer();
  await using tmp = await tempDir();
  const dir = tmp.path;
  const serveEncoded = (body: Uint8Array) => {
    const encoded = gzipSync(body);
    storage.state.handle = (_req, res) => {
      res.writeHead(200, {
        "content-encoding": "gzip",
        "content-length": String(encoded.byteLength),
      });
      res.end(encoded);
    };
  };
  await t.step("an archive", async () => {
    serveEncoded(tarBytes([{ name: "big.bin", data: new Uint8Array(200_000).fill(7) }]));
    await archiveAt(fake, `${storage.url}/a.tar`);
    const got = await cli(fake, ["checkpoint", "download", CKPT, "-o", "out"], { cwd: dir });
    assert.equal(got.code, 0, got.err);
    const data = await Deno.readFile(`${dir}/out/${NAME}/big.bin`);
    assert.equal(data.byteLength, 200_000);
    assert.ok(data.every((b) => b === 7));
    await fake.reset();
  });
  await t.step("a trace file", async () => {
    serveEncoded(new Uint8Array(100_000).fill(9));
    await traceAt(fake, `${storage.url}/t.pftrace`);
    const got = await cli(fake, ["session", "export-trace", SESSION, "-o", "t.pftrace"], {
      cwd: dir,
    });
    assert.equal(got.code, 0, got.err);
    assert.equal((await Deno.readFile(`${dir}/t.pftrace`)).byteLength, 100_000);
    await fake.reset();
  });
});

// ---- smaller breaks --------------------------------------------------------------------

Deno.test("external-weights names that collide are a local failure (exit 7)", async (t) => {
  await using fake = await startFakeTinker(ARCHIVE_ROUTE);
  await using storage = await storageServer();
  await using tmp = await tempDir();
  const dir = tmp.path;
  storage.state.handle = (_req, res) => res.end("x");
  const cases: [string, Record<string, string>, RegExp][] = [
    ["a file that is also a directory", { a: "", "a/b": "" }, /"a" would also be the directory/],
    [
      "two spellings of one path",
      { a: "", "./a": "" },
      /same path: "\.\/a" and "a"|"a" and "\.\/a"/,
    ],
  ];
  for (const [name, files, expected] of cases) {
    await t.step(name, async () => {
      await externalFiles(
        fake,
        Object.fromEntries(Object.keys(files).map((f) => [f, `${storage.url}/${f}`])),
      );
      const got = await cli(fake, ["checkpoint", "download", EXTERNAL, "-o", "out"], { cwd: dir });
      assert.equal(got.code, 7, got.err);
      assert.match(got.err, expected);
      assert.deepEqual(await listTree(`${dir}/out`), []);
      await fake.reset();
    });
  }
});

Deno.test("a negative --limit is refused, not read as 'all'", async () => {
  await using fake = await startFakeTinker(ARCHIVE_ROUTE);
  for (const args of [["run", "list"], ["checkpoint", "list"], ["session", "list"]]) {
    await fake.clearLog();
    const got = await cli(fake, [...args, "--limit", "-5"]);
    assert.equal(got.code, 2, got.err);
    assert.match(got.err, /Invalid value for '--limit': -5 is not in the range x>=0\./);
    assert.equal(fake.log.length, 0);
  }
});

Deno.test("checkpoint delete exits 1 when a deletion failed, after the summary", async () => {
  await using fake = await startFakeTinker(ARCHIVE_ROUTE);
  const missing = `tinker://${RUN}/weights/999999`;
  const got = await cli(fake, ["checkpoint", "delete", "-y", CKPT, missing]);
  assert.equal(got.code, 1, got.err);
  assert.match(got.out, /Deleted 1 checkpoint\(s\)\nFailed to delete 1 checkpoint\(s\):\n/);
  assert.match(got.err, /^Error: Failed to delete 1 of 2 checkpoint\(s\)\n$/);
  assert.equal(fake.state!.checkpoint(RUN, "weights/000010"), undefined);
});

Deno.test("listing pages from a server that never ends them stops with a clear error", async (t) => {
  await using fake = await startFakeTinker(ARCHIVE_ROUTE);
  const runs = [...fake.state!.runs.values()];
  const page = Array.from({ length: 100 }, (_, i) => ({
    ...runs[i % runs.length],
    training_run_id: `run-${i}`,
  }));
  await t.step("a server that ignores the offset (--limit 0 and --all)", async () => {
    // --limit 0 pages itself (the official CLI's paging); --all walks the library's pages(),
    // whose own bound stops it.
    const stopped = {
      "--limit": /Stopped listing training runs: the server sent the same page twice/,
      "--all":
        /Stopped iterating GET \/api\/v1\/training_runs: the server returned the same page at offsets 0 and 100/,
    };
    for (const flag of [["--limit", "0"], ["--all"]] as const) {
      await fake.inject({
        path: "/api/v1/training_runs",
        status: 200,
        body: { training_runs: page, cursor: { offset: 0, limit: 100, total_count: 1e12 } },
        times: 50,
      });
      const got = await within(30_000, "run list", cli(fake, ["run", "list", ...flag]));
      assert.equal(got.code, 1, got.err);
      assert.match(got.err, stopped[flag[0]]);
      await fake.reset();
    }
  });
  await t.step("pages past the bound (lowered here) are not fetched", async () => {
    const parsed = parseCommandLine(["run", "list"]);
    if (parsed.kind !== "command") throw new Error("not a command");
    const ctx = new Context(parsed.global, {
      stdout: () => {},
      stderr: () => {},
      env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
      cwd: ".",
      signal: new AbortController().signal,
      now: Date.now,
      isTTY: false,
      stderrIsTTY: false,
      columns: 80,
      stdin: () => ({ readLine: () => Promise.resolve(null), close() {} }),
    });
    try {
      const rest = await ctx.client();
      await fake.clearLog();
      await assert.rejects(
        fetchPaged(
          ctx,
          0,
          1,
          "training runs",
          (limit, offset) =>
            rest.listTrainingRuns({ limit, offset }).then((p) => ({
              items: p.training_runs,
              total: p.cursor.total_count,
            })),
          5,
        ),
        /Stopped listing training runs after 5 pages \(5 items\)/,
      );
      assert.equal(fake.log.filter((r) => r.path === "/api/v1/training_runs").length, 6);
    } finally {
      ctx.dispose();
    }
  });
});

Deno.test("billing usage --csv - escapes server text on a terminal, not in a pipe", async () => {
  await using fake = await startFakeTinker(ARCHIVE_ROUTE);
  const event = fake.state!.billing.find((e) => e.bucket_start.startsWith("2026-07-13T05"))!;
  assert.ok(event, "the seed has usage in the window");
  event.user_name = `eve${ESCAPES}`;
  const args = ["billing", "usage", "2026-07-13T05:00:00Z", "2026-07-13T07:00:00Z", "--csv", "-"];
  let out = "";
  const code = await main(args, {
    env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url, NO_COLOR: "1" },
    stdout: (t) => void (out += t),
    stderr: () => {},
    isTTY: true,
    columns: 120,
  });
  assert.equal(code, 0);
  assert.ok(out.includes("eve\\u001b]0;pwned\\u0007"), out);
  assertInert(out.replaceAll("\r\n", "\n"), "CSV on a terminal");
  const piped = await cli(fake, args);
  assert.equal(piped.code, 0, piped.err);
  assert.ok(piped.out.includes(`eve${ESCAPES}`), "a pipe gets the data unchanged");
});
