// `cli.bundle.js` is generated from `cli.ts` and everything it loads: fail
// while it is stale, and check that the bundle is the CLI (same output).

import assert from "node:assert/strict";
import { generate, OUTPUT_PATH } from "../scripts/bundle_cli.ts";
import { spawnFakeTinker } from "../testing/mod.ts";
import { runCli } from "./cli_run.ts";

Deno.test("cli bundle: cli.bundle.js is up to date (run `deno task bundle:cli`)", async () => {
  const fresh = await generate();
  const committed = await Deno.readTextFile(OUTPUT_PATH);
  assert.ok(
    fresh === committed,
    "cli.bundle.js is stale: run `deno task bundle:cli` and commit the result",
  );
});

Deno.test("cli bundle: deno run of the bundle prints what the CLI prints", async () => {
  await using fake = await spawnFakeTinker();
  const home = await Deno.makeTempDir();
  try {
    const env = {
      TINKER_API_KEY: fake.apiKey,
      TINKER_BASE_URL: fake.url,
      COLUMNS: "120",
      HOME: home,
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    };
    for (const args of [["version"], ["run", "list"], ["-f", "json", "checkpoint", "list"]]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", OUTPUT_PATH.pathname, ...args],
        env: { ...env, PATH: Deno.env.get("PATH") ?? "" },
        clearEnv: true,
        stdin: "null",
      }).output();
      const expected = await runCli(args, { env });
      assert.equal(out.code, expected.code, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout), expected.stdout, args.join(" "));
    }
    // The bundled CLI kept the bootstrap cache in HOME, as the CLI does.
    assert.ok((await Deno.stat(`${home}/.cache/tinker-ts/bootstrap.json`)).isFile);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
