import assert from "node:assert/strict";
import { posix } from "node:path";
import { files, posixPaths } from "./_fs.ts";

Deno.test("paths: resolve, join and dirname as node:path.posix does them", () => {
  const cwd = "/home/user/work";
  const paths = posixPaths(() => cwd);
  const parts = [
    "",
    "/",
    "//",
    "a",
    "b",
    ".",
    "..",
    "a/b",
    "../c",
    "./d/",
    "/x/y/",
    "e//f",
    "...",
    "g/..",
  ];
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const path = () => {
    let text = "";
    const n = Math.floor(random() * 4);
    for (let i = 0; i < n; i++) text += parts[Math.floor(random() * parts.length)];
    return text;
  };
  for (let i = 0; i < 20_000; i++) {
    const args = Array.from({ length: Math.floor(random() * 4) }, path);
    const expected = posix.resolve(cwd, ...args);
    assert.equal(paths.resolve(cwd, ...args), expected, `resolve(${JSON.stringify(args)})`);
    assert.equal(paths.join(...args), posix.join(...args), `join(${JSON.stringify(args)})`);
    const one = path();
    assert.equal(paths.dirname(one), posix.dirname(one), `dirname(${JSON.stringify(one)})`);
  }
  assert.equal(paths.resolve("rel"), `${cwd}/rel`);
});

Deno.test("files: write, rename, remove, in Deno's API", async () => {
  const fs = await files();
  const root = await Deno.makeTempDir();
  try {
    const dir = await fs.mkdtemp(fs.join(root, ".run:train:0.partial-"));
    assert.match(dir, /\/\.run:train:0\.partial-[^/]{6}$/);
    assert.notEqual(await fs.mkdtemp(fs.join(root, ".run:train:0.partial-")), dir);
    await fs.chmod(dir, 0o755);
    fs.mkdirSync(fs.join(dir, "a", "b"));
    const sync = fs.openSync(fs.join(dir, "a", "b", "f.bin"), 0o644);
    const bytes = new TextEncoder().encode("xxhello");
    assert.equal(sync.write(bytes, 2, 5), 5);
    sync.close();
    fs.setTimesSync(fs.join(dir, "a", "b", "f.bin"), 1_000_000);
    assert.equal(
      (await Deno.stat(fs.join(dir, "a", "b", "f.bin"))).mtime?.getTime(),
      1_000_000_000,
    );
    const file = await fs.open(fs.join(dir, "g.txt"), 0o644);
    assert.equal(await file.write(bytes, 0, 2), 2);
    await file.close();
    assert.equal(await fs.readText(fs.join(dir, "a", "b", "f.bin")), "hello");
    assert.equal(await fs.readText(fs.join(dir, "g.txt")), "xx");
    await fs.writeText(fs.join(dir, "h.txt"), "text");
    assert.equal(await Deno.readTextFile(fs.join(dir, "h.txt")), "text");
    const moved = fs.join(root, "moved");
    await fs.rename(dir, moved);
    assert.equal(await fs.exists(dir), false);
    assert.equal(await fs.exists(fs.join(moved, "a", "b", "f.bin")), true);
    await fs.remove(moved);
    await fs.remove(moved); // Gone already: nothing happens.
    assert.equal(await fs.exists(moved), false);
    await Deno.writeTextFile(fs.join(root, "file"), "");
    await assert.rejects(
      () => fs.mkdir(fs.join(root, "file", "x")),
      (e: { code?: string }) => e.code === "ENOTDIR",
    );
    const error = await Promise.resolve().then(() => fs.openSync(fs.join(root, "no", "f"), 0o644))
      .catch((e: { code?: string }) => e);
    assert.equal((error as { code?: string }).code, "ENOENT");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
