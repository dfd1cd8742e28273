/**
 * The `tinker` command-line interface: the official Python CLI's commands,
 * flags, table and JSON output, for Deno, Bun and Node — and as one
 * self-contained binary (`deno task compile` / `deno task compile:bun`).
 *
 * Commands: `version`, `whoami`, `auth status|whoami`, `run list|info`,
 * `checkpoint list|info|publish|unpublish|set-ttl|delete|download`,
 * `session export-trace|info|list`, `sampler info`, `model list`,
 * `billing usage|checkpoint-storage`. Global options (before or after the
 * command): `-f/--format table|json|jsonl`, `--verbose`, `--max-retries N`,
 * `--no-cache`, `-h/--help`. Configuration: `TINKER_API_KEY`,
 * `TINKER_BASE_URL`, `TINKER_NO_CACHE`, `NO_COLOR`, `COLUMNS`. The server's
 * client config is cached for an hour in the user's cache directory (no
 * secret: see the README), so a command sends one request, not two.
 *
 * Exit codes: 0 success, 1 API/server error, 2 usage error, 3
 * authentication or configuration, 4 not found, 5 network, 6 invalid
 * input, 7 local or archive failure, 130 interrupted (Ctrl-C), 143
 * terminated (SIGTERM); either signal cleans up first, a second one exits
 * at once. (The official CLI exits 1 for every error;
 * `TINKER_CLI_EXIT_CODES=official` does the same.)
 *
 * This module runs `cli.bundle.js`: the CLI's sources (`cli/`, from
 * `cli/_entry.ts`) and the library bundled into one module by `deno task
 * bundle:cli`, because `deno run` loads one file much faster than the ~40 it
 * is built from. A test fails while the bundle is stale.
 *
 * @example Run a command in-process and capture its output
 * ```ts
 * import { main } from "@tinker-ts/tinker/cli";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const code = await main(["version"], { stdout: (text) => (out += text) });
 * assert.equal(code, 0);
 * assert.match(out, /^tinker /);
 * ```
 *
 * @example From a shell
 * ```sh
 * export TINKER_API_KEY=tml-...
 * deno run -A jsr:@tinker-ts/tinker/cli run list --limit 5
 * tinker -f json checkpoint list --run-id <run-id> | jq '.checkpoints[].tinker_path'
 * ```
 *
 * @module
 */

import { main as bundledMain, runProcess } from "./cli.bundle.js";
import type { CliIo } from "./cli/_context.ts";

export type { CliIo } from "./cli/_context.ts";

/**
 * Runs the CLI with `args` (without the program name) and resolves with the
 * exit code. Never throws and never exits the process; output goes to
 * `io.stdout` / `io.stderr` (default: the process's).
 *
 * @param args Command-line arguments, e.g. `["run", "list", "--limit", "5"]`.
 * @param io Streams, environment, terminal size and an abort signal (Ctrl-C) to use instead of the process's.
 * @returns The exit code: 0 success, 1 API error, 2 usage, 3 auth/config, 4 not found, 5 network, 6 invalid input, 7 local/archive failure, 130 interrupted.
 *
 * @example
 * ```ts
 * import { main } from "@tinker-ts/tinker/cli";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const code = await main(["run", "info", "some-run"], {
 *   env: {}, // no TINKER_API_KEY
 *   stderr: (text) => (err += text),
 * });
 * assert.equal(code, 3);
 * assert.match(err, /^Error: Missing API key/);
 * ```
 */
export function main(args: string[], io: CliIo = {}): Promise<number> {
  return bundledMain(args, io);
}

if (import.meta.main) await runProcess();
