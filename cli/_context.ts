// What a command runs with: the output format, the terminal, the streams,
// the environment, an abort signal for Ctrl-C, and a lazily created client.

import type { ClientOptions, RestClient } from "../mod.ts";
import type { GlobalOptions } from "./_args.ts";
import type { FileCache } from "./_cache.ts";
import { CliError, EXIT, Interrupted } from "./_errors.ts";
import { plain, pyJson, type Value } from "./_format.ts";
import { renderTable, type TableSpec } from "./_table.ts";
import { inert } from "./_inert.ts";

/**
 * The streams and environment of one CLI run. Every field is optional; the
 * defaults are the real process's.
 *
 * @example Capture the output of a run with a fixed terminal width
 * ```ts
 * import { type CliIo, main } from "@tinker-ts/tinker/cli";
 *
 * let out = "";
 * const io: CliIo = { stdout: (text) => (out += text), isTTY: false, columns: 100, env: {} };
 * await main(["--help"], io);
 * ```
 */
export interface CliIo {
  /** Answers to prompts: a string (all input) or a byte stream. */
  stdin?: string | ReadableStream<Uint8Array> | undefined;
  /** Receives standard output. */
  stdout?: ((text: string) => void) | undefined;
  /** Receives standard error. */
  stderr?: ((text: string) => void) | undefined;
  /** Environment variables (default: the process's). */
  env?: Record<string, string | undefined> | undefined;
  /** Whether stdout is a terminal (colours, live progress). */
  isTTY?: boolean | undefined;
  /** Whether stderr is a terminal (download progress bar); default `isTTY`. */
  stderrIsTTY?: boolean | undefined;
  /** Terminal width for tables (default: `COLUMNS`, the terminal, else 80). */
  columns?: number | undefined;
  /** Working directory for relative paths (default: the process's). */
  cwd?: string | undefined;
  /** Aborting it acts as Ctrl-C. */
  signal?: AbortSignal | undefined;
  /** The clock, in milliseconds (relative dates). */
  now?: (() => number) | undefined;
}

/** One line of input at a time. */
export interface LineReader {
  /** The next line without its newline, or null at end of input. */
  readLine(): Promise<string | null>;
  /** Releases the input. */
  close(): void;
}

/** The context handed to every command. */
export class Context {
  readonly format: GlobalOptions["format"];
  readonly verbose: boolean;
  readonly maxRetries: number | undefined;
  readonly env: Record<string, string | undefined>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly color: boolean;
  readonly width: number;
  readonly cwd: string;
  readonly signal: AbortSignal;
  readonly now: () => number;
  readonly #out: (text: string) => void;
  readonly #err: (text: string) => void;
  readonly #stdin: () => LineReader;
  /** Whether stdin is the process's terminal (a prompt can hide what is typed). */
  readonly stdinIsTTY: () => boolean;
  #lines: LineReader | undefined;
  #client: RestClient | undefined;
  /** The bootstrap cache, its file read from the start (it overlaps loading the command). */
  #cacheOpening: Promise<FileCache | undefined>;
  /** Where the client's credential comes from, for error messages (set by {@linkcode client}). */
  keySource: string | undefined;

  constructor(
    global: GlobalOptions,
    io: Required<Pick<CliIo, "stdout" | "stderr" | "env" | "cwd" | "signal" | "now">> & {
      isTTY: boolean;
      stderrIsTTY: boolean;
      columns: number;
      stdin: () => LineReader;
      stdinIsTTY?: () => boolean;
    },
  ) {
    this.format = global.format;
    this.verbose = global.verbose;
    this.maxRetries = global.maxRetries;
    this.#cacheOpening = global.noCache === true
      ? Promise.resolve(undefined)
      : import("./_cache.ts").then((m) => m.openBootstrapCache(io.env), () => undefined);
    this.env = io.env;
    this.stdoutIsTTY = io.isTTY;
    this.stderrIsTTY = io.stderrIsTTY;
    const noColor = (io.env.NO_COLOR ?? "") !== "";
    const force = (io.env.FORCE_COLOR ?? "") !== "" && io.env.FORCE_COLOR !== "0";
    this.color = !noColor && (io.isTTY || force) && io.env.TERM !== "dumb";
    this.width = io.columns;
    this.cwd = io.cwd;
    this.signal = io.signal;
    this.now = io.now;
    this.#out = io.stdout;
    this.#err = io.stderr;
    this.#stdin = io.stdin;
    this.stdinIsTTY = io.stdinIsTTY ?? (() => false);
  }

  /** Whether the output is JSON or JSON Lines. */
  get json(): boolean {
    return this.format !== "table";
  }

  /** Writes to stdout. */
  out(text: string): void {
    this.#out(text);
  }

  /** Writes to stderr. */
  err(text: string): void {
    this.#err(text);
  }

  /** Prints a table at the terminal width. */
  table(spec: TableSpec): void {
    this.out(renderTable(spec, { width: this.width, color: this.color }));
  }

  /**
   * Prints a command's result in the chosen format: `json` as the official
   * CLI (`indent=2`), `jsonl` one compact object per item (`items`, else the
   * whole value), `table` via `table()`. `json` and `items` may be functions
   * when building them costs time (long lists): only JSON output calls them.
   */
  emit(result: {
    json: Value | (() => Value);
    items?: Value[] | (() => Value[]);
    table: () => TableSpec;
  }): void {
    const json = () => typeof result.json === "function" ? result.json() : result.json;
    if (this.format === "json") this.out(`${pyJson(json(), 2)}\n`);
    else if (this.format === "jsonl") {
      const items = typeof result.items === "function" ? result.items() : result.items;
      for (const item of items ?? [json()]) {
        // JSON escapes C0 controls; C1 and bidi controls are escaped too (as
        // JSON escapes), so a line is inert.
        this.out(`${inert(JSON.stringify(plain(item)))}\n`);
      }
    } else this.table(result.table());
  }

  /** Reads one line of stdin (null at end of input). */
  readLine(): Promise<string | null> {
    this.#lines ??= this.#stdin();
    return this.#lines.readLine();
  }

  /** Resolves when the bootstrap cache's writes are done (before the process exits). */
  async settle(): Promise<void> {
    await (await this.#cacheOpening)?.settle();
  }

  /** Releases stdin if it was used. */
  dispose(): void {
    this.#lines?.close();
    this.#client?.close();
  }

  /** Throws {@linkcode Interrupted} if Ctrl-C was pressed. */
  checkInterrupted(): void {
    if (this.signal.aborted) throw new Interrupted();
  }

  /**
   * The REST client, created on first use. Its credential is found as the
   * official SDK finds it (`TINKER_API_KEY`, `TINKER_CREDENTIAL_CMD`, then the
   * default key of `~/.tinker/credentials.json`), from this run's environment.
   */
  async client(): Promise<RestClient> {
    if (this.#client) return this.#client;
    const [options, { RestClient }] = await Promise.all([
      this.clientOptions(),
      import("../rest_client.ts"), // Not mod.ts: the training types and codecs are not needed here.
    ]);
    this.#client = new RestClient(options);
    return this.#client;
  }

  /**
   * The options of every client of this run (REST, OpenAI-compatible): this
   * run's environment (the credential is found in it as the SDK finds it),
   * retries, the `--verbose` logger, the bootstrap cache (unless `--no-cache`
   * or `TINKER_NO_CACHE`).
   */
  async clientOptions(): Promise<ClientOptions> {
    const { credentialSource } = await import("./_source.ts");
    try {
      this.keySource = credentialSource(this);
    } catch (error) {
      if (!(error instanceof CliError) || error.message !== "No Tinker credentials are available") {
        throw error;
      }
      throw new CliError(
        "Missing API key: set the TINKER_API_KEY environment variable",
        "Create a key at https://tinker.thinkingmachines.ai/keys and store it with `tinker auth login` (or set TINKER_CREDENTIAL_CMD).",
        EXIT.auth,
      );
    }
    const verbose = this.verbose;
    const cache = await this.#cacheOpening;
    await cache?.ready();
    return {
      env: this.env,
      maxRetries: this.maxRetries,
      logger: verbose ? (line: string) => this.err(`[http] ${inert(line, true)}\n`) : undefined,
      bootstrapCache: cache,
    };
  }
}

/** A line reader over a string or a byte stream. */
export function lineReader(input: string | ReadableStream<Uint8Array>): LineReader {
  if (typeof input === "string") {
    const lines = input.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return {
      readLine: () => Promise.resolve(lines.length ? lines.shift()!.replace(/\r$/, "") : null),
      close: () => {},
    };
  }
  const reader = input.getReader();
  const decoder = new TextDecoder();
  return linesFrom(
    async () => {
      const chunk = await reader.read();
      return chunk.done ? null : decoder.decode(chunk.value, { stream: true });
    },
    () => void reader.cancel().catch(() => {}),
  );
}

/** Lines of the text chunks `pull` yields (`null` at the end); `\r\n` or `\n` ends a line. */
export function linesFrom(
  pull: () => Promise<string | null>,
  close: () => void = () => {},
): LineReader {
  let buffer = "";
  let done = false;
  return {
    async readLine() {
      for (;;) {
        const nl = buffer.indexOf("\n");
        if (nl >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, "");
          buffer = buffer.slice(nl + 1);
          return line;
        }
        if (done) {
          const rest = buffer;
          buffer = "";
          return rest === "" ? null : rest;
        }
        const chunk = await pull();
        if (chunk === null) done = true;
        else buffer += chunk;
      }
    },
    close,
  };
}
