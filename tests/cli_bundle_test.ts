// `cli.bundle.js` is generated from `cli/_entry.ts` and everything it loads,
// and `cli.ts` runs it: fail while it is stale, and check that `cli.ts` is
// the CLI of the sources (same output, in a process and in-process).

import assert from "node:assert/strict";
import {
  bundleSource,
  eagerCompileHints,
  OUTPUT_PATH,
  recordedDigest,
} from "../scripts/bundle_cli.ts";
import { sha256Hex } from "../internal/_sha256.ts";
import { spawnFakeTinker } from "../testing/mod.ts";
import { runCli } from "./cli_run.ts";
import { main as bundledMain } from "../cli.ts";

const CLI_ENTRY = new URL("../cli.ts", import.meta.url);

Deno.test("cli bundle: cli.bundle.js is up to date (run `deno task bundle:cli`)", async () => {
  const committed = await Deno.readTextFile(OUTPUT_PATH);
  assert.equal(
    recordedDigest(committed),
    sha256Hex(await bundleSource()),
    "cli.bundle.js is stale: run `deno task bundle:cli` and commit the result",
  );
});

Deno.test("cli bundle: functions that ran are marked for eager compilation, the rest stay lazy", async () => {
  const source = [
    "var C=(t,e)=>()=>(t&&(e=t(t=0)),e);",
    "function used(x){return x+1}",
    "function unused(){return 2}",
    "async function later(){return used(1)}",
    "var m=C(()=>{v=used(1)}),q=C(()=>{v=0}),v;",
    "m();",
    "export{v,later,unused};",
  ].join("");
  const range = (text: string, executed: boolean) => {
    const start = source.indexOf(text);
    assert.ok(start >= 0, text);
    return { start, end: start + text.length, executed };
  };
  const functions = [
    { start: 0, end: source.length, executed: true }, // the script itself
    range("(t,e)=>()=>(t&&(e=t(t=0)),e)", true),
    range("()=>(t&&(e=t(t=0)),e)", true),
    range("function used(x){return x+1}", true),
    range("function unused(){return 2}", false),
    range("async function later(){return used(1)}", true),
    range("()=>{v=used(1)}", true),
    range("()=>{v=0}", false),
  ];
  const marked = eagerCompileHints(source, functions);
  assert.equal(
    marked,
    [
      "var C=(t,e)=>()=>(t&&(e=t(t=0)),e);",
      "var used=(function used(x){return x+1});",
      "function unused(){return 2}",
      "var later=(async function later(){return used(1)});",
      "var m=C((()=>{v=used(1)})),q=C(()=>{v=0}),v;",
      "m();",
      "export{v,later,unused};",
    ].join(""),
  );
  // The marked module means the same.
  const mod = await import(`data:text/javascript,${encodeURIComponent(marked)}`);
  assert.equal(mod.v, 2);
  assert.equal(await mod.later(), 2);
  assert.equal(mod.unused(), 2);
});

Deno.test("cli bundle: a file without a recorded digest is stale", () => {
  assert.equal(recordedDigest("// deno-lint-ignore-file\nvar a=1;\n"), undefined);
  assert.equal(recordedDigest("// Bundled source SHA-256: ab12\nvar a=1;"), "ab12");
});

Deno.test("cli bundle: deno run cli.ts (the bundle) prints what the sources print", async () => {
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
        args: ["run", "-A", CLI_ENTRY.pathname, ...args],
        env: { ...env, PATH: Deno.env.get("PATH") ?? "" },
        clearEnv: true,
        stdin: "null",
      }).output();
      const expected = await runCli(args, { env });
      assert.equal(out.code, expected.code, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout), expected.stdout, args.join(" "));
      let stdout = "";
      const code = await bundledMain(args, {
        env: { ...env },
        stdout: (text) => void (stdout += text),
        stderr: () => {},
        stdin: "",
        isTTY: false,
        columns: 120,
      });
      assert.deepEqual([code, stdout], [expected.code, expected.stdout], `main: ${args.join(" ")}`);
    }
    // The bundled CLI kept the bootstrap cache in HOME, as the sources do.
    assert.ok((await Deno.stat(`${home}/.cache/tinker-ts/bootstrap.json`)).isFile);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
