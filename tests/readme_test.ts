// Every ```ts snippet of README.md, `ignore`d by `deno test --doc` or not,
// type-checked and run as a script against the fake Tinker server (in its
// own process, so that `.result()` can block): `TINKER_BASE_URL` and
// `TINKER_API_KEY` point at it, and the package name resolves to this
// checkout. The fake is reset before each snippet.

import assert from "node:assert/strict";
import { spawnFakeTinker } from "../testing/mod.ts";

const root = new URL("../", import.meta.url);
const readme = await Deno.readTextFile(new URL("README.md", root));

interface Snippet {
  line: number;
  heading: string;
  code: string;
}

/** The ```ts blocks, with their line and the heading above them. */
export function snippets(markdown: string): Snippet[] {
  const found: Snippet[] = [];
  let heading = "";
  let open: Snippet | undefined;
  markdown.split("\n").forEach((text, i) => {
    if (open) {
      if (text.startsWith("```")) {
        found.push(open);
        open = undefined;
      } else open.code += `${text}\n`;
      return;
    }
    if (/^#+ /.test(text)) heading = text.replace(/^#+ /, "");
    if (/^```ts(\s|$)/.test(text)) open = { line: i + 1, heading, code: "" };
  });
  assert.equal(open, undefined, "an unclosed ```ts block");
  return found;
}

/** The snippet with the package's specifiers pointing at this checkout. */
function localized(code: string): string {
  return code
    .replaceAll('"@tinker-ts/tinker/testing"', JSON.stringify(new URL("testing/mod.ts", root).href))
    .replaceAll('"@tinker-ts/tinker/download"', JSON.stringify(new URL("download.ts", root).href))
    .replaceAll('"@tinker-ts/tinker"', JSON.stringify(new URL("mod.ts", root).href));
}

Deno.test("every ts snippet of the README runs against the fake server", async (t) => {
  const all = snippets(readme);
  assert.ok(all.length >= 5, `found ${all.length} snippets`);
  await using fake = await spawnFakeTinker({ tracePendingCount: 0 });
  const dir = await Deno.makeTempDir({ prefix: "readme-" });
  try {
    for (const snippet of all) {
      await t.step(`README.md:${snippet.line} (${snippet.heading})`, async () => {
        await fake.reset();
        const file = `${dir}/snippet_${snippet.line}.ts`;
        await Deno.writeTextFile(file, localized(snippet.code));
        const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
          args: ["run", "--check", "-A", `--config=${new URL("deno.json", root).pathname}`, file],
          env: { TINKER_BASE_URL: fake.url, TINKER_API_KEY: fake.apiKey, NO_COLOR: "1" },
          stdin: "null",
          signal: AbortSignal.timeout(120_000),
        }).output();
        const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
        assert.equal(code, 0, `README.md:${snippet.line} failed:\n${text}`);
        // It talked to a Tinker: this one, or a fake it started itself.
        const requests = await fake.requests();
        assert.ok(
          requests.length > 0 || snippet.code.includes("startFakeTinker"),
          `README.md:${snippet.line} sent no request to the fake server`,
        );
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the snippet extractor finds blocks, their lines and headings", () => {
  const found = snippets("# A\n\n```ts\nx;\n```\n\n## B\n```ts ignore\ny;\n```\n```sh\nz\n```\n");
  assert.deepEqual(found, [
    { line: 3, heading: "A", code: "x;\n" },
    { line: 8, heading: "B", code: "y;\n" },
  ]);
});
