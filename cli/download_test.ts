// `tinker checkpoint download` end to end against the fake server, with the
// archive served by a local HTTP server so the tests control every byte:
// plain and gzip archives, long names, truncation, corrupt data, malicious
// tars (traversal, absolute paths, symlinks, hard links, devices) and
// Ctrl-C mid-download. Also the tar reader on its own.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";
import { main } from "./_entry.ts";
import { readTar, safePath, tarBytes, TarError, type TarWriteEntry } from "./_tar.ts";

const CKPT = FAKE_IDS.checkpointPath;
const NAME = CKPT.replace("tinker://", "").replaceAll("/", "_");
const text = (s: string) => new TextEncoder().encode(s);

/** Serves `body()` at any path; `slow` sends half, then waits until closed. */
async function archiveServer(
  body: () => Uint8Array,
  options: { slow?: boolean; contentLength?: number } = {},
): Promise<{ url: string; close(): Promise<void>; firstBytes: Promise<void> }> {
  let sent!: () => void;
  const firstBytes = new Promise<void>((resolve) => (sent = resolve));
  const server: Server = createServer((_req, res) => {
    const data = body();
    res.writeHead(200, {
      "content-type": "application/x-tar",
      "content-length": String(options.contentLength ?? data.byteLength),
    });
    if (options.slow) {
      res.write(Buffer.from(data.subarray(0, data.byteLength >> 1)), () => sent());
      return; // never finishes: the client must give up
    }
    const short = options.contentLength !== undefined && options.contentLength > data.byteLength;
    res.end(Buffer.from(data), () => short && res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/archive.tar`,
    firstBytes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function setup(
  archive: () => Uint8Array,
  options: { slow?: boolean; contentLength?: number } = {},
) {
  // Without session routes, weights/ falls back to the archive, which these tests serve.
  const fake = await startFakeTinker({ sessionRoutes: false });
  const server = await archiveServer(archive, options);
  await fake.inject({
    path: /\/archive$/,
    status: 302,
    headers: { location: server.url },
    times: 5,
  });
  const dir = await mkdtemp(join(tmpdir(), "tinker-download-test-"));
  const run = async (args: string[], signal?: AbortSignal) => {
    let stdout = "";
    let stderr = "";
    const code = await main(["checkpoint", "download", CKPT, "-o", "out", ...args], {
      env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      cwd: dir,
      columns: 120,
      signal,
    });
    return { code, stdout, stderr };
  };
  const entries = () => readdir(join(dir, "out")).catch(() => [] as string[]);
  const cleanup = async () => {
    await server.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { fake, server, dir, run, entries, cleanup };
}

const GOOD: TarWriteEntry[] = [
  { name: "adapter_config.json", data: text('{"r": 8}') },
  { name: "nested/", type: "5" },
  { name: "nested/deep/file.bin", data: new Uint8Array(70_000).fill(7) },
  {
    name: `long/${"d".repeat(60)}/${"e".repeat(60)}/gnu-name.txt`,
    data: text("gnu"),
    longName: "gnu",
  },
  {
    name: `long/${"p".repeat(60)}/${"q".repeat(60)}/pax-name.txt`,
    data: text("pax"),
    longName: "pax",
  },
  {
    name: `long/${"u".repeat(60)}/${"v".repeat(60)}/ustar.txt`,
    data: text("ustar"),
    longName: "ustar-prefix",
  },
  { name: "./checkpoint_complete", data: new Uint8Array() },
];

for (const gzip of [false, true]) {
  Deno.test(`download: ${gzip ? "gzip" : "plain"} archive with long names`, async () => {
    const tar = tarBytes(GOOD);
    const t = await setup(() => (gzip ? new Uint8Array(gzipSync(tar)) : tar));
    try {
      const result = await t.run(["-f", "json"]);
      assert.equal(result.code, 0, result.stderr);
      const out = JSON.parse(result.stdout);
      assert.equal(out.destination, `out/${NAME}`);
      assert.equal(out.file_size_bytes, gzip ? gzipSync(tar).byteLength : tar.byteLength);
      const root = join(t.dir, "out", NAME);
      assert.equal(await readFile(join(root, "adapter_config.json"), "utf8"), '{"r": 8}');
      assert.equal((await readFile(join(root, "nested/deep/file.bin"))).byteLength, 70_000);
      for (const entry of GOOD.filter((e) => e.longName)) {
        assert.equal(
          await readFile(join(root, entry.name), "utf8"),
          new TextDecoder().decode(entry.data),
        );
      }
      assert.deepEqual(await t.entries(), [NAME]);
    } finally {
      await t.cleanup();
    }
  });
}

const REFUSED: [string, TarWriteEntry[], RegExp][] = [
  [
    "traversal",
    [{ name: "ok.txt", data: text("a") }, { name: "../x", data: text("evil") }],
    /Unsafe path \(\.\.\)/,
  ],
  ["nested traversal", [{ name: "a/../../x", data: text("evil") }], /Unsafe path \(\.\.\)/],
  ["absolute path", [{ name: "/tmp/evil", data: text("evil") }], /absolute path/],
  ["symlink", [{ name: "link", type: "2", linkname: "/etc/passwd" }], /Refusing symlink/],
  ["hard link", [{ name: "hard", type: "1", linkname: "ok.txt" }], /Refusing hard link/],
  ["device", [{ name: "dev", type: "3" }], /Refusing device file/],
  ["fifo", [{ name: "fifo", type: "6" }], /Refusing FIFO/],
];

for (const [name, entries, message] of REFUSED) {
  Deno.test(`download: refuses a tar with a ${name}`, async () => {
    const t = await setup(() => tarBytes(entries));
    try {
      const result = await t.run([]);
      assert.equal(result.code, 7, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Archive may be corrupted or malicious\./);
      assert.deepEqual(await t.entries(), [], "nothing left behind");
    } finally {
      await t.cleanup();
    }
  });
}

Deno.test("download: an output path that is a file is a local failure (exit 7)", async () => {
  const t = await setup(() => tarBytes(GOOD));
  try {
    await Deno.writeTextFile(join(t.dir, "out"), "a file, not a directory");
    const result = await t.run([]);
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /^Error: Failed to save checkpoint: .*(exists|directory)/i);
    assert.match(result.stderr, /Please check that you have write permissions/);
    assert.equal(await readFile(join(t.dir, "out"), "utf8"), "a file, not a directory");
  } finally {
    await t.cleanup();
  }
});

Deno.test("download: corrupt and truncated archives leave nothing", async (t) => {
  const tar = tarBytes(GOOD);
  const cases: [string, () => Uint8Array, number, RegExp, { contentLength?: number }?][] = [
    ["bad checksum", () => tar.map((b, i) => (i === 10 ? b ^ 0xff : b)), 7, /bad header checksum/],
    ["no end marker", () => tarBytes(GOOD, false), 7, /no end-of-archive marker/],
    ["cut inside a file", () => tar.subarray(0, 4096), 7, /truncated/],
    [
      "corrupt gzip",
      () => new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5]),
      7,
      /gzip|corrupt|truncated/,
    ],
    ["short body", () => tar, 5, /Failed to download checkpoint/, {
      contentLength: tar.byteLength + 1000,
    }],
  ];
  for (const [name, body, code, message, options] of cases) {
    await t.step(name, async () => {
      const s = await setup(body, options);
      try {
        const result = await s.run([]);
        assert.equal(result.code, code, result.stderr);
        assert.match(result.stderr, message);
        assert.deepEqual(await s.entries(), []);
      } finally {
        await s.cleanup();
      }
    });
  }
});

Deno.test("download: the fake's truncate fault mid-transfer", async () => {
  const fake = await startFakeTinker({ archiveBytes: 1 << 20 });
  const dir = await mkdtemp(join(tmpdir(), "tinker-download-test-"));
  try {
    await fake.inject({ target: "storage", path: /safetensors$/, truncate: 300_000 });
    let stderr = "";
    const code = await main(["checkpoint", "download", CKPT, "-o", "out"], {
      env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
      stdout: () => {},
      stderr: (t) => void (stderr += t),
      cwd: dir,
    });
    assert.equal(code, 5, stderr);
    assert.deepEqual(await readdir(join(dir, "out")), []);
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
});

Deno.test("download: Ctrl-C mid-download removes the partial directory", async () => {
  const tar = tarBytes([{ name: "big.bin", size: 4 << 20 }]);
  const t = await setup(() => tar, { slow: true });
  try {
    const controller = new AbortController();
    const running = t.run([], controller.signal);
    await t.server.firstBytes;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await t.entries()).length, 1, "the temporary directory exists while downloading");
    assert.match((await t.entries())[0]!, /^\..*\.partial-/);
    controller.abort();
    const result = await running;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /Interrupted/);
    assert.deepEqual(await t.entries(), []);
  } finally {
    await t.cleanup();
  }
});

Deno.test("tar reader: safePath", () => {
  assert.equal(safePath("./a//b/"), "a/b");
  assert.equal(safePath("./"), "");
  for (const bad of ["/etc/passwd", "a/../../b", "..", "C:\\x", "a\\..\\b", "a\0b", ""]) {
    assert.throws(() => safePath(bad), TarError, bad);
  }
});

Deno.test("tar reader: global pax headers are skipped", async () => {
  const files: Record<string, number> = {};
  const sink = {
    directory: () => Promise.resolve(),
    async file(entry: { path: string }, data: AsyncIterable<Uint8Array>) {
      let n = 0;
      for await (const chunk of data) n += chunk.byteLength;
      files[entry.path] = n;
    },
  };
  const bytes = tarBytes([
    { name: "g", type: "g", data: text("20 comment=hello!!\n") },
    { name: "a.txt", data: text("hello") },
  ]);
  const stream = new Blob([bytes as BlobPart]).stream();
  const result = await readTar(stream, sink);
  assert.deepEqual(files, { "a.txt": 5 });
  assert.equal(result.entries, 1);
});
