/**
 * Bundles the CLI (`cli/_entry.ts` and everything it loads, the library
 * included) into one minified module, `cli.bundle.js`, which `cli.ts` runs:
 * `deno run` of one file loads much faster than of the ~40 modules it holds
 * (see bench/RESULTS.md). Run with `deno task bundle:cli` after changing the
 * CLI or the library; `tests/cli_bundle_test.ts` fails while it is stale.
 *
 * V8 compiles a function when it is first called, on every run: Deno's code
 * cache keeps only what was compiled with the module itself. So the bundle
 * marks the functions that common commands call for eager compilation (a
 * function expression in parentheses; see {@linkcode eagerCompileHints}),
 * found by running those commands under `deno run --coverage` against the
 * fake server, and checks that the marked bundle prints what the plain one
 * prints. The header records the SHA-256 of the plain bundle, which is what
 * the staleness test compares.
 *
 * @module
 */

import { sha256Hex } from "../internal/_sha256.ts";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";

const root = new URL("../", import.meta.url);
const OUTPUT = new URL("cli.bundle.js", root);

/** The path of the generated file. */
export const OUTPUT_PATH: URL = OUTPUT;

/** The header line that records the SHA-256 of the plain bundle. */
const DIGEST_PREFIX = "// Bundled source SHA-256: ";

/** Commands whose start and common paths are compiled with the module. */
const COMMANDS: string[][] = [
  ["version"],
  ["run", "list"], // the bootstrap cache cold
  ["run", "list"], // and warm
  ["-f", "json", "run", "list"],
  ["run", "info", FAKE_IDS.run],
  ["checkpoint", "list"],
  ["checkpoint", "list", "--run-id", FAKE_IDS.bigRun],
];

/** A function of a script: its source range and whether a run called it. */
export interface FunctionRange {
  /** Offset of its first character (as V8 reports it: UTF-16 units). */
  start: number;
  /** Offset just past its last character. */
  end: number;
  /** Whether it ran. */
  executed: boolean;
}

/** The plain bundle of `cli/_entry.ts`: the bundler's minified output (deterministic). */
export async function bundleSource(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tinker-bundle-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "deno", "--minify", "-o", `${dir}/cli.js`, "cli/_entry.ts"],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`bundling the CLI failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    return (await Deno.readTextFile(`${dir}/cli.js`)).trim();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The plain bundle's SHA-256 recorded in a generated file's header, if any. */
export function recordedDigest(generated: string): string | undefined {
  const start = generated.indexOf(DIGEST_PREFIX);
  if (start < 0) return undefined;
  const end = generated.indexOf("\n", start);
  return generated.slice(start + DIGEST_PREFIX.length, end < 0 ? undefined : end);
}

/**
 * `source` with the executed functions marked for eager compilation, so
 * V8 compiles them with the module and Deno's code cache keeps them:
 *
 * - a module initialiser of the bundler (`var x=init(()=>{…})`, where
 *   `init` is the bundler's lazy-module helper) becomes `init((()=>{…}))`;
 * - a top-level function declaration `function f(…){…}` becomes
 *   `var f=(function f(…){…});`.
 *
 * Functions that did not run stay lazy: compiling them eagerly would make
 * the code cache larger, and loading it slower, for code a run never calls.
 * A declaration turned into a `var` is no longer hoisted; the bundle's
 * top-level code defines before it calls (checked by running the result).
 */
export function eagerCompileHints(source: string, functions: FunctionRange[]): string {
  const helper = /var ([\w$]+)=\(([\w$]+),([\w$]+)\)=>\(\)=>\(\2&&\(\3=\2\(\2=0\)\),\3\)/.exec(
    source,
  )?.[1];
  const edits: [at: number, text: string][] = [];
  for (const fn of functions) {
    if (!fn.executed || fn.start >= fn.end || isNested(fn, functions, source.length)) continue;
    const text = source.slice(fn.start, fn.end);
    if (
      helper !== undefined && text.startsWith("()=>{") &&
      source.slice(fn.start - helper.length - 1, fn.start) === `${helper}(`
    ) {
      edits.push([fn.start, "("], [fn.end, ")"]);
      continue;
    }
    const name = /^(?:async )?function\*? ?([\w$]+)\(/.exec(text)?.[1];
    const before = source[fn.start - 1];
    if (name !== undefined && (before === undefined || before === ";" || before === "}")) {
      edits.push([fn.start, `var ${name}=(`], [fn.end, ");"]);
    }
  }
  edits.sort((a, b) => a[0] - b[0]);
  let out = "";
  let last = 0;
  for (const [at, text] of edits) {
    out += source.slice(last, at) + text;
    last = at;
  }
  return out + source.slice(last);
}

/** Whether `fn` lies inside another function (the whole script aside). */
function isNested(fn: FunctionRange, functions: FunctionRange[], length: number): boolean {
  return functions.some((outer) =>
    outer !== fn && outer.start <= fn.start && fn.end <= outer.end &&
    !(outer.start === 0 && outer.end >= length) && (outer.start < fn.start || fn.end < outer.end)
  );
}

/** What `deno run` of `file` prints for each of {@linkcode COMMANDS}, with a fresh cache. */
async function runCommands(
  file: string,
  env: Record<string, string>,
  coverageDir?: string,
): Promise<string[]> {
  const cache = await Deno.makeTempDir({ prefix: "tinker-bundle-cache-" });
  try {
    const outputs: string[] = [];
    for (const args of COMMANDS) {
      const flags = coverageDir ? [`--coverage=${coverageDir}`] : [];
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", ...flags, file, ...args],
        env: { ...env, XDG_CACHE_HOME: cache },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      if (!out.success) {
        throw new Error(
          `tinker ${args.join(" ")} exited ${out.code}:\n${new TextDecoder().decode(out.stderr)}`,
        );
      }
      outputs.push(`${out.code}\n${stdout}`);
    }
    return outputs;
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
}

/** The functions of `file` and whether {@linkcode COMMANDS} ran them (V8 coverage). */
async function executedFunctions(
  file: string,
  env: Record<string, string>,
  dir: string,
): Promise<FunctionRange[]> {
  const coverage = `${dir}/coverage`;
  await runCommands(file, env, coverage);
  const url = new URL(`file://${file}`).href;
  const byRange = new Map<string, FunctionRange>();
  for await (const entry of Deno.readDir(coverage)) {
    const report = JSON.parse(await Deno.readTextFile(`${coverage}/${entry.name}`)) as {
      url: string;
      functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[];
    };
    if (report.url !== url) continue;
    for (const { ranges: [range] } of report.functions) {
      if (range === undefined) continue;
      const key = `${range.startOffset}:${range.endOffset}`;
      const seen = byRange.get(key);
      const executed = range.count > 0 || seen?.executed === true;
      byRange.set(key, { start: range.startOffset, end: range.endOffset, executed });
    }
  }
  if (byRange.size === 0) throw new Error(`no coverage was recorded for ${file}`);
  return [...byRange.values()];
}

/** The text `cli.bundle.js` should have (bundled and marked by the running Deno). */
export async function generate(): Promise<string> {
  const source = await bundleSource();
  const dir = await Deno.makeTempDir({ prefix: "tinker-bundle-" });
  await using fake = await startFakeTinker();
  try {
    const env = {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: dir,
      DENO_DIR: Deno.env.get("DENO_DIR") ??
        `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`,
      TINKER_API_KEY: fake.apiKey,
      TINKER_BASE_URL: fake.url,
      TINKER_TELEMETRY: "0",
      NO_COLOR: "1",
      COLUMNS: "120",
    };
    const plain = `${dir}/plain.js`;
    const marked = `${dir}/marked.js`;
    await Deno.writeTextFile(plain, source);
    const functions = await executedFunctions(plain, env, dir);
    await Deno.writeTextFile(marked, eagerCompileHints(source, functions));
    const [expected, actual] = [await runCommands(plain, env), await runCommands(marked, env)];
    for (let i = 0; i < COMMANDS.length; i++) {
      if (expected[i] !== actual[i]) {
        throw new Error(
          `the marked bundle prints something else for \`tinker ${COMMANDS[i]!.join(" ")}\``,
        );
      }
    }
    return [
      '// @ts-self-types="./cli.bundle.d.ts"',
      "// Generated by scripts/bundle_cli.ts from cli/_entry.ts: do not edit (deno task bundle:cli).",
      "// The `tinker` CLI as one module, run by cli.ts: deno run -A jsr:@tinker-ts/tinker/cli --help",
      `${DIGEST_PREFIX}${sha256Hex(source)}`,
      "// deno-fmt-ignore-file",
      "// deno-lint-ignore-file",
      await Deno.readTextFile(marked),
      "",
    ].join("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const text = await generate();
  await Deno.writeTextFile(OUTPUT, text);
  console.log(`wrote ${OUTPUT.pathname} (${text.length} characters)`);
}
