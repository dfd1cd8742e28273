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
import { resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { main } from "../cli/_entry.ts";

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The signal that ended a spawned program (it did not exit by itself); `code` is then 128 + n. */
  killedBy?: string;
}

/** Options of one run. */
export interface RunOptions {
  /** Environment (nothing else is inherited, except PATH for spawned programs). */
  env?: Record<string, string>;
  /** Text fed to stdin (default: empty input). */
  stdin?: string;
  /** Working directory. */
  cwd?: string;
  /** Aborting it acts as Ctrl-C (in-process runs; a spawned program gets SIGINT). */
  signal?: AbortSignal;
  /** Called with a function that sends a signal to the spawned program (see `spawn`). */
  onSpawn?: (kill: (signal: "SIGINT" | "SIGTERM") => void) => void;
  /**
   * Run a separate program even without `TINKER_CLI_BIN` (then `deno run -A
   * cli/_entry.ts`, the sources): a real signal needs a process of its own.
   */
  spawn?: boolean;
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
  const bin = CLI_BIN ??
    (options.spawn
      ? [process.execPath, "run", "-A", fileURLToPath(new URL("../cli/_entry.ts", import.meta.url))]
      : undefined);
  if (!bin) {
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
  const [command, ...prefix] = bin;
  // Deno.Command, not node:child_process: in Deno the latter reports a child
  // that handled a signal it was sent and exited as killed by it.
  const child = new Deno.Command(command!, {
    args: [...prefix, ...args],
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", COLUMNS: String(columns), ...options.env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(options.stdin ?? "")).catch(() => {});
  await writer.close().catch(() => {});
  options.onSpawn?.((signal) => child.kill(signal));
  const kill = () => child.kill("SIGINT");
  options.signal?.addEventListener("abort", kill, { once: true });
  const got = await output.finally(() => options.signal?.removeEventListener("abort", kill));
  const decoder = new TextDecoder();
  const result: CliResult = {
    code: got.code,
    stdout: decoder.decode(got.stdout),
    stderr: decoder.decode(got.stderr),
  };
  return got.signal ? { ...result, killedBy: got.signal } : result;
}

/** A run as one snapshot-friendly text, with volatile parts replaced. */
export function transcript(result: CliResult, replace: [string | RegExp, string][] = []): string {
  let text = `[exit ${result.code}]\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
  for (const [from, to] of replace) text = text.replaceAll(from, to);
  return text;
}
