// The CLI's driver: parse, build the context, run the command, turn every
// failure into an `Error: …` message and an exit code.

import { parseCommandLine } from "./_args.ts";
import { type CliIo, Context, type LineReader, lineReader, linesFrom } from "./_context.ts";
import { inert } from "./_inert.ts";
import { processIo } from "./_io.ts";
import {
  exitProcess,
  nodeProcess,
  onInterrupt,
  processCwd,
  processEnv,
  type StopSignal,
} from "./_process.ts";
import { causeChain, type CliError, EXIT, Interrupted, toCliError, UsageError } from "./_errors.ts";

const GRACE_AFTER_INTERRUPT_MS = 3000;

/** See `main` in `cli.ts`. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const env = io.env ?? processEnv();
  // The process's streams only when needed: in Bun, merely touching them costs milliseconds.
  const proc = io.stdout && io.stderr ? undefined : processIo();
  const stdout = io.stdout ?? proc!.stdout;
  const stderr = io.stderr ?? proc!.stderr;
  const isTTY = io.isTTY ?? (io.stdout ? false : proc!.isTTY(1));
  const stderrIsTTY = io.stderrIsTTY ?? (io.isTTY ?? (io.stderr ? false : proc!.isTTY(2)));
  const columns = io.columns ?? terminalColumns(env, proc);
  const official = env.TINKER_CLI_EXIT_CODES === "official";
  // Official codes: 1 for every error; success, usage (2) and signals (128 + n) keep theirs.
  const exit = (code: number) => (official && code > 2 && code < 128 ? 1 : code);

  let invocation;
  try {
    invocation = parseCommandLine(argv, columns);
  } catch (error) {
    if (error instanceof UsageError) {
      stderr(
        `Usage: ${error.usage}\nTry '${error.helpCommand} -h' for help.\n\nError: ${error.message}\n`,
      );
      return EXIT.usage;
    }
    stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return exit(EXIT.error);
  }
  if (invocation.kind === "help") {
    (invocation.exitCode === 0 ? stdout : stderr)(invocation.text);
    return invocation.exitCode;
  }

  // Ctrl-C or SIGTERM: abort the command (which cleans up), then exit 130 or
  // 143; a second signal exits at once.
  const controller = new AbortController();
  /** Starts a running command's grace period (set while it runs). */
  let startGrace: (() => void) | undefined;
  /** Whether the command was stopped by SIGTERM (exit 143, "Terminated"), not Ctrl-C. */
  let terminated = false;
  const abort = () => {
    controller.abort(new Interrupted());
    startGrace?.();
  };
  const interrupt = (signal: StopSignal) => {
    if (controller.signal.aborted) {
      exitProcess(signal === "SIGTERM" ? EXIT.terminated : EXIT.interrupted);
    }
    terminated = signal === "SIGTERM";
    abort();
  };
  if (io.signal) {
    if (io.signal.aborted) controller.abort(new Interrupted());
    io.signal.addEventListener("abort", abort, { once: true });
  }
  const stopListening = io.signal ? undefined : onInterrupt(interrupt);

  let usedStdin = false;
  const ctx = new Context(invocation.global, {
    stdout,
    stderr,
    env,
    cwd: io.cwd ?? processCwd(),
    signal: controller.signal,
    now: io.now ?? Date.now,
    isTTY,
    stderrIsTTY,
    columns,
    stdin: () => {
      usedStdin = true;
      return io.stdin === undefined ? processStdin() : lineReader(io.stdin);
    },
    stdinIsTTY: () => {
      if (io.stdin !== undefined) return false;
      usedStdin = true;
      return (nodeProcess().stdin as { isTTY?: boolean }).isTTY === true;
    },
  });
  try {
    const handler = await invocation.command.load();
    const running = handler(ctx, invocation.parsed);
    await untilSettledOrInterrupted(running, controller.signal, (start) => (startGrace = start));
    return EXIT.ok;
  } catch (error) {
    const failure = error instanceof Interrupted
      ? error
      : controller.signal.aborted
      ? new Interrupted()
      : await toCliError(error, ctx.keySource);
    if (failure instanceof Interrupted) {
      // One place says which signal it was (the abort reason, or a command's own Interrupted).
      const message = terminated && failure.message.startsWith("Interrupted")
        ? `Terminated${failure.message.slice("Interrupted".length)}`
        : failure.message;
      stderr(`${message}\n`);
      return terminated ? EXIT.terminated : EXIT.interrupted;
    }
    if (failure instanceof UsageError) {
      stderr(
        `Usage: ${failure.usage}\nTry '${failure.helpCommand} -h' for help.\n\nError: ${failure.message}\n`,
      );
      return EXIT.usage;
    }
    // Messages quote server answers, archive names and URLs: shown, never obeyed.
    const cli = failure as CliError;
    stderr(`Error: ${inert(cli.message)}\n`);
    if (cli.details) stderr(`${inert(cli.details)}\n`);
    if (ctx.verbose) {
      for (const line of causeChain(cli)) stderr(`${inert(line)}\n`);
    }
    return exit(cli.code);
  } finally {
    startGrace = undefined;
    stopListening?.();
    await ctx.settle();
    ctx.dispose();
    if (usedStdin && io.stdin === undefined) releaseProcessStdin();
  }
}

/**
 * Awaits `running`; once the function handed to `onAbort` is called (the
 * command was interrupted), waits a moment for its cleanup, then gives up.
 * Told by the caller, not by an abort listener and `Promise.race`: their
 * first uses cost ~30 µs of a command's cold start.
 */
function untilSettledOrInterrupted(
  running: Promise<void>,
  signal: AbortSignal,
  onAbort: (startGrace: () => void) => void,
): Promise<void> {
  if (signal.aborted) {
    running.catch(() => {});
    return Promise.reject(new Interrupted());
  }
  return new Promise((resolve, reject) => {
    running.then(resolve, reject);
    onAbort(() => {
      const timer = setTimeout(() => reject(new Interrupted()), GRACE_AFTER_INTERRUPT_MS);
      running.finally(() => clearTimeout(timer)).catch(() => {});
    });
  });
}

/** The width of tables and help: `COLUMNS` when it is ASCII digits, else the terminal's, else 80. */
export function terminalColumns(
  env: Record<string, string | undefined>,
  proc: ReturnType<typeof processIo> | undefined,
): number {
  const fromEnv = env.COLUMNS;
  if (fromEnv && isDigits(fromEnv)) return Number(fromEnv);
  const size = (proc ?? processIo()).columns();
  return typeof size === "number" && size > 0 ? size : 80;
}

/** Whether `text` is ASCII digits only (a loop: a regex's first use costs more at start). */
function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

let stdinReader: LineReader | undefined;

/** Lines of the process's stdin (node streams: the same in Deno, Bun and Node). */
function processStdin(): LineReader {
  const process = nodeProcess();
  const chunks: (string | null)[] = [];
  let waiting: (() => void) | undefined;
  const push = (chunk: string | null) => {
    chunks.push(chunk);
    waiting?.();
  };
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => push(chunk));
  process.stdin.on("end", () => push(null));
  process.stdin.on("error", () => push(null));
  stdinReader = linesFrom(async () => {
    while (chunks.length === 0) await new Promise<void>((resolve) => (waiting = resolve));
    const chunk = chunks.shift()!;
    if (chunk === null) chunks.unshift(null); // The end stays the end.
    return chunk;
  });
  return stdinReader;
}

function releaseProcessStdin(): void {
  stdinReader = undefined;
  try {
    const process = nodeProcess();
    process.stdin.pause();
    process.stdin.removeAllListeners("data");
    process.stdin.removeAllListeners("end");
    (process.stdin as { unref?: () => void }).unref?.();
  } catch {
    // Nothing to release.
  }
}
