/**
 * Runs the `tinker` CLI for tests: in-process through `main()` by default,
 * or as a separate program when `TINKER_CLI_BIN` is set, e.g.
 *
 * ```sh
 * TINKER_CLI_BIN=./tinker deno test -A tests/cli_test.ts            # the compiled binary
 * TINKER_CLI_BIN="deno run -A cli.ts" deno test -A tests/cli_test.ts  # the published entry (the bundle)
 * ```
 *
 * Either way the CLI sees a non-TTY, COLUMNS=120 and only the environment
 * given here, so outputs are comparable byte for byte.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import process from "node:process";
import { main } from "../cli/_entry.ts";

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one run. */
export interface RunOptions {
  /** Environment (nothing else is inherited, except PATH for spawned programs). */
  env?: Record<string, string>;
  /** Text fed to stdin (default: empty input). */
  stdin?: string;
  /** Working directory. */
  cwd?: string;
  /** Aborting it acts as Ctrl-C (in-process runs only). */
  signal?: AbortSignal;
  /** Terminal width (default 120). */
  columns?: number;
}

/** The program under test, as argv, or undefined for in-process runs. */
export const CLI_BIN: string[] | undefined = process.env.TINKER_CLI_BIN?.trim()
  ? process.env.TINKER_CLI_BIN.trim().split(/\s+/).map((part, i) =>
    // Paths (the program, or a script after it) resolve from here, not from the run's cwd.
    (i === 0 && part.includes("/")) || /\.(ts|js)$/.test(part) ? resolve(part) : part
  )
  : undefined;

/** Runs `tinker args…`. */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const columns = options.columns ?? 120;
  if (!CLI_BIN) {
    let stdout = "";
    let stderr = "";
    const code = await main(args, {
      env: { COLUMNS: String(columns), ...options.env },
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      stdin: options.stdin ?? "",
      isTTY: false,
      columns,
      cwd: options.cwd,
      signal: options.signal,
    });
    return { code, stdout, stderr };
  }
  const [command, ...prefix] = CLI_BIN;
  const child = spawn(command!, [...prefix, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", COLUMNS: String(columns), ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr!.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  child.stdin!.end(options.stdin ?? "");
  options.signal?.addEventListener("abort", () => child.kill("SIGINT"), { once: true });
  const code = await new Promise<number>((resolve) =>
    child.once("close", (c, signal) => resolve(c ?? (signal === "SIGINT" ? 130 : 1)))
  );
  return { code, stdout, stderr };
}

/** A run as one snapshot-friendly text, with volatile parts replaced. */
export function transcript(result: CliResult, replace: [string | RegExp, string][] = []): string {
  let text = `[exit ${result.code}]\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
  for (const [from, to] of replace) text = text.replaceAll(from, to);
  return text;
}
