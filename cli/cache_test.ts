// The CLI's bootstrap cache file: where it lives per platform, that a warm
// cache makes a command one request, what the file holds and its modes, and
// that corrupt, foreign, shared-writable or linked files are ignored, and
// `--no-cache` / `TINKER_NO_CACHE` turn it off.

import assert from "node:assert/strict";
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "./_entry.ts";
import { FAKE_IDS, type FakeTinker, startFakeTinker } from "../testing/mod.ts";
import { cacheDirectory, cacheDisabled } from "./_cache.ts";

const CONFIG = "/api/v1/client/config";

Deno.test("cli cache: the directory follows the platform's convention", () => {
  assert.equal(cacheDirectory({ HOME: "/home/ada" }, "linux"), "/home/ada/.cache/tinker-ts");
  assert.equal(
    cacheDirectory({ HOME: "/home/ada", XDG_CACHE_HOME: "/var/cache/ada/" }, "linux"),
    "/var/cache/ada/tinker-ts",
  );
  assert.equal(
    cacheDirectory({ HOME: "/home/ada", XDG_CACHE_HOME: "relative/dir" }, "linux"),
    "/home/ada/.cache/tinker-ts",
    "a relative XDG_CACHE_HOME is ignored, as the spec says",
  );
  assert.equal(
    cacheDirectory({ HOME: "/Users/ada", XDG_CACHE_HOME: "/x" }, "darwin"),
    "/Users/ada/Library/Caches/tinker-ts",
  );
  assert.equal(
    cacheDirectory({ LOCALAPPDATA: "C:\\Users\\ada\\AppData\\Local" }, "windows"),
    "C:\\Users\\ada\\AppData\\Local\\tinker-ts",
  );
  assert.equal(cacheDirectory({ LOCALAPPDATA: "relative" }, "windows"), undefined);
  assert.equal(cacheDirectory({}, "linux"), undefined);
  assert.equal(cacheDirectory({ HOME: "" }, "darwin"), undefined);
});

Deno.test("cli cache: TINKER_NO_CACHE turns it off unless empty, 0 or false", () => {
  for (const value of ["1", "yes", "true", "TRUE"]) {
    assert.ok(cacheDisabled({ TINKER_NO_CACHE: value }));
  }
  for (const value of [undefined, "", "0", "false", " "]) {
    assert.ok(!cacheDisabled({ TINKER_NO_CACHE: value }), String(value));
  }
});

interface Fixture {
  fake: FakeTinker;
  home: string;
  dir: string;
  run(
    args: string[],
    env?: Record<string, string>,
  ): Promise<{ code: number; out: string; err: string }>;
  /** How many bootstraps the fake saw since the last call. */
  bootstraps(): Promise<number>;
  /** The cache files. */
  files(): Promise<string[]>;
}

async function fixture(): Promise<Fixture & AsyncDisposable> {
  const fake = await startFakeTinker();
  const home = await mkdtemp(join(tmpdir(), "tinker-cache-test-"));
  const dir = join(home, ".cache", "tinker-ts");
  return {
    fake,
    home,
    dir,
    async run(args, env = {}) {
      let out = "";
      let err = "";
      const code = await main(args, {
        env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url, HOME: home, ...env },
        stdout: (t) => void (out += t),
        stderr: (t) => void (err += t),
        isTTY: false,
        columns: 120,
      });
      return { code, out, err };
    },
    async bootstraps() {
      const n = (await fake.requests()).filter((r) => r.path === CONFIG).length;
      await fake.clearLog();
      return n;
    },
    files: () => readdir(dir).catch(() => []),
    async [Symbol.asyncDispose]() {
      await fake.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

Deno.test("cli cache: the second command sends one request; the file holds flags, no secret", async () => {
  await using f = await fixture();
  const first = await f.run(["run", "list"]);
  assert.equal(first.code, 0, first.err);
  assert.equal(await f.bootstraps(), 1);
  const second = await f.run(["run", "list"]);
  assert.equal(second.code, 0, second.err);
  assert.equal(second.out, first.out, "the same output");
  assert.equal(await f.bootstraps(), 0, "no bootstrap with a warm cache");
  assert.equal((await f.fake.requests()).length, 0);

  assert.deepEqual(await f.files(), ["bootstrap.json"], "one file, no temp file left");
  const path = join(f.dir, "bootstrap.json");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(f.dir)).mode & 0o777, 0o700);
  const text = await readFile(path, "utf8");
  assert.ok(!text.includes(f.fake.apiKey), "the key is not in the file");
  const data = JSON.parse(text);
  assert.equal(data.version, 1);
  const [[key, entry], ...others] = Object.entries(data.entries) as [
    [string, { config: Record<string, unknown> }],
  ];
  assert.equal(others.length, 0);
  assert.match(key!, new RegExp(`^${f.fake.url.replace(/\./g, "\\.")} [0-9a-f]{32}$`));
  assert.deepEqual(Object.keys(entry).sort(), ["config", "mac", "storedAt", "version"]);
  assert.equal(entry.config.pjwt_auth_enabled, false);
});

Deno.test("cli cache: --verbose says the bootstrap was skipped", async () => {
  await using f = await fixture();
  await f.run(["run", "list"]);
  const { err } = await f.run(["--verbose", "run", "list", "--limit", "1"]);
  assert.match(err, /client\/config skipped: the client config is cached/);
  assert.ok(!err.includes(f.fake.apiKey));
});

Deno.test("cli cache: XDG_CACHE_HOME is used when set", async () => {
  await using f = await fixture();
  const xdg = join(f.home, "xdg");
  await f.run(["run", "list"], { XDG_CACHE_HOME: xdg });
  assert.equal((await readdir(join(xdg, "tinker-ts"))).length, 1);
  assert.deepEqual(await f.files(), []);
});

Deno.test("cli cache: --no-cache and TINKER_NO_CACHE neither read nor write it", async () => {
  await using f = await fixture();
  await f.run(["--no-cache", "run", "list"]);
  await f.run(["run", "list", "--no-cache"], { TINKER_NO_CACHE: "0" });
  await f.run(["run", "list"], { TINKER_NO_CACHE: "1" });
  assert.equal(await f.bootstraps(), 3);
  assert.deepEqual(await f.files(), []);
  await f.run(["run", "list"]); // Written now...
  await f.run(["--no-cache", "run", "list"]); // ...but not read.
  await f.run(["run", "list"], { TINKER_NO_CACHE: "1" });
  assert.equal(await f.bootstraps(), 3);
});

Deno.test("cli cache: files that are not safely ours are ignored and replaced", async (t) => {
  await using f = await fixture();
  await f.run(["run", "list"]);
  const path = join(f.dir, "bootstrap.json");
  const good = await readFile(path, "utf8");
  await f.bootstraps();

  const cases: [string, () => Promise<void>, boolean][] = [
    ["corrupt JSON", () => writeFile(path, "{not json", { mode: 0o600 }), true],
    ["only an entry for another key", async () => {
      const data = JSON.parse(good);
      const [[key, entry]] = Object.entries(data.entries) as [[string, unknown]];
      data.entries = { [`${key.split(" ")[0]} ${"0".repeat(32)}`]: entry };
      await writeFile(path, JSON.stringify(data), { mode: 0o600 });
    }, true],
    ["an entry changed by hand (its MAC no longer holds)", async () => {
      const data = JSON.parse(good);
      for (const entry of Object.values(data.entries) as { storedAt: number }[]) entry.storedAt++;
      await writeFile(path, JSON.stringify(data), { mode: 0o600 });
    }, true],
    ["another file version", async () => {
      await writeFile(path, JSON.stringify({ ...JSON.parse(good), version: 2 }), { mode: 0o600 });
    }, true],
    ["a file others may write", async () => {
      await writeFile(path, good);
      await chmod(path, 0o666);
    }, true],
    ["a symbolic link to a file others may write", async () => {
      const target = join(f.home, "elsewhere.json");
      await writeFile(target, good);
      await chmod(target, 0o666);
      await symlink(target, path);
    }, true],
    ["a file owned by another user", async () => {
      await writeFile(path, good, { mode: 0o600 });
      await chown(path, 65534, 65534);
    }, Deno.uid() === 0], // Only root can give a file away.
    ["a named pipe (reading it would block)", async () => {
      const made = await new Deno.Command("mkfifo", { args: ["-m", "600", path] }).output();
      assert.ok(made.success, new TextDecoder().decode(made.stderr));
    }, Deno.build.os !== "windows"],
    ["a file over 64 KiB", async () => {
      const data = JSON.parse(good);
      data.padding = "x".repeat(64 * 1024);
      await writeFile(path, JSON.stringify(data), { mode: 0o600 });
    }, true],
  ];
  for (const [name, spoil, possible] of cases) {
    await t.step({
      name: `${name}: not read; the command bootstraps and writes a good file`,
      ignore: !possible,
      fn: async () => {
        await rm(path, { force: true });
        await spoil();
        const result = await f.run(["run", "list", "--limit", "1"]);
        assert.equal(result.code, 0, result.err);
        assert.equal(await f.bootstraps(), 1);
        const after = await stat(path);
        assert.ok(after.isFile() && after.uid === Deno.uid() && (after.mode & 0o777) === 0o600);
        const entries = JSON.parse(await readFile(path, "utf8")).entries;
        assert.ok(Object.keys(JSON.parse(good).entries).every((key) => key in entries));
      },
    });
  }
  await t.step("a cache directory that is a file: no cache, the command still works", async () => {
    await rm(f.dir, { recursive: true, force: true });
    await mkdir(join(f.home, ".cache"), { recursive: true });
    await writeFile(f.dir, "not a directory");
    for (let i = 0; i < 2; i++) {
      const result = await f.run(["run", "list", "--limit", "1"]);
      assert.equal(result.code, 0, result.err);
    }
    assert.equal(await f.bootstraps(), 2);
  });
});

Deno.test("cli cache: JWT auth switched on after the file was written", async () => {
  await using f = await fixture();
  await f.run(["run", "list"]);
  await f.fake.setOptions({ jwtAuth: true });
  await f.fake.inject({
    path: `/api/v1/training_runs/${FAKE_IDS.run}`,
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token"' },
  });
  await f.fake.clearLog();
  const result = await f.run(["run", "info", FAKE_IDS.run]);
  assert.equal(result.code, 0, result.err);
  const seen = (await f.fake.requests()).map((r) => `${r.method} ${r.path} ${r.status}`);
  assert.deepEqual(seen, [
    `GET /api/v1/training_runs/${FAKE_IDS.run} 401`,
    `POST ${CONFIG} 200`,
    "POST /api/v1/auth/token 200",
    `GET /api/v1/training_runs/${FAKE_IDS.run} 200`,
  ]);
  const data = JSON.parse(await readFile(join(f.dir, "bootstrap.json"), "utf8"));
  const [entry] = Object.values(data.entries) as { config: Record<string, unknown> }[];
  assert.equal(entry!.config.pjwt_auth_enabled, true, "the file holds the fresh flags");
  assert.ok(!JSON.stringify(data).includes("eyJ"), "and no JWT");
});

Deno.test("cli cache: one file holds an entry per base URL and key; expired ones are pruned", async () => {
  await using f = await fixture();
  const path = join(f.dir, "bootstrap.json");
  const key = f.fake.apiKey;
  const runAs = async (apiKey: string) => {
    await f.fake.setOptions({ apiKey });
    const result = await f.run(["run", "list"], { TINKER_API_KEY: apiKey });
    assert.equal(result.code, 0, result.err);
  };
  const age = async (index: number) => {
    const data = JSON.parse(await readFile(path, "utf8"));
    const name = Object.keys(data.entries)[index]!;
    data.entries[name].storedAt = Date.now() - 2 * 60 * 60_000; // Two hours old.
    await writeFile(path, JSON.stringify(data), { mode: 0o600 });
    return name;
  };
  const names = async () => Object.keys(JSON.parse(await readFile(path, "utf8")).entries);

  await runAs(key);
  await runAs(`${key}-b`);
  const [a, b] = await names();
  assert.ok(a && b && a !== b);
  await age(0);
  await f.bootstraps();
  await runAs(key);
  assert.equal(await f.bootstraps(), 1, "an expired entry is not used");
  assert.deepEqual(await names(), [b, a], "the fresh entry is stored, newest last");
  await age(0); // b
  await runAs(`${key}-c`);
  const after = await names();
  assert.equal(after.length, 2, "the expired entry was pruned");
  assert.ok(!after.includes(b!) && after[0] === a);
});
