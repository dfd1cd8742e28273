/**
 * The types of `cli.bundle.js`: the `tinker` CLI of `cli.ts` bundled into one
 * module, so `deno run` loads one file instead of ~40.
 *
 * @example From a shell
 * ```sh
 * deno run -A jsr:@tinker-ts/tinker/cli.bundle.js run list --limit 5
 * ```
 *
 * @module
 */

import type { CliIo } from "./cli.ts";

export type { CliIo };

/**
 * Runs the CLI with `args` and resolves with the exit code, as `main` of
 * `cli.ts` does (the same code, bundled).
 *
 * @param args Command-line arguments, e.g. `["run", "list", "--limit", "5"]`.
 * @param io Streams, environment, terminal size and an abort signal to use instead of the process's.
 * @returns The exit code.
 *
 * @example
 * ```ts
 * import { main } from "@tinker-ts/tinker/cli.bundle.js";
 *
 * const code = await main(["version"], { stdout: () => {} });
 * console.log(code); // 0
 * ```
 */
export declare function main(args: string[], io?: CliIo): Promise<number>;
