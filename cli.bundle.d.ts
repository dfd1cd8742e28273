/**
 * The types of `cli.bundle.js`: the CLI of `cli/_entry.ts` and the library
 * bundled into one module (`deno task bundle:cli`), which `cli.ts` runs.
 *
 * @example Through `cli.ts`
 * ```ts
 * import { main } from "@tinker-ts/tinker/cli";
 *
 * const code = await main(["version"], { stdout: () => {} });
 * console.log(code); // 0
 * ```
 *
 * @module
 */

import type { CliIo } from "./cli/_context.ts";

export type { CliIo };

/**
 * Runs the CLI with `args` and resolves with the exit code: `main` of
 * `cli/_entry.ts`, bundled (see `main` in `cli.ts`).
 *
 * @param args Command-line arguments, e.g. `["run", "list", "--limit", "5"]`.
 * @param io Streams, environment, terminal size and an abort signal to use instead of the process's.
 * @returns The exit code.
 *
 * @example
 * ```ts
 * import { main } from "@tinker-ts/tinker/cli";
 *
 * const code = await main(["version"], { stdout: () => {} });
 * console.log(code); // 0
 * ```
 */
export declare function main(args: string[], io?: CliIo): Promise<number>;

/**
 * Runs the CLI as this process (its arguments, streams and environment) and
 * exits with the command's exit code: what `deno run cli.ts` does.
 *
 * @returns Never: the process exits.
 *
 * @example
 * ```ts ignore
 * import { runProcess } from "./cli.bundle.js";
 *
 * await runProcess(); // e.g. `tinker run list`, then exit
 * ```
 */
export declare function runProcess(): Promise<never>;
