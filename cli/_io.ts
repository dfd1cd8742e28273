// The process's stdout and stderr for the CLI, written without Node's stream
// machinery where the runtime has a cheaper primitive: in Bun, touching
// `process.stdout` loads `node:stream` and friends (8–12 ms of a cold start),
// and `node:tty` costs as much again. Deno writes synchronously through
// `Deno.stdout`; Bun through `Bun.write(Bun.stdout, …)`, queued so order is
// kept (across both streams); Node keeps its streams (cheap there). A closed
// pipe (`tinker … | head`) silently ends output, as Python's CLI does.

import { nodeProcess } from "./_process.ts";

/** Writing to and asking about the process's standard streams. */
export interface ProcessIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether fd 1 (stdout) or 2 (stderr) is a terminal. */
  isTTY(fd: 1 | 2): boolean;
  /** The terminal's width, if stdout or stderr is a terminal. */
  columns(): number | undefined;
  /** Resolves once everything written has been handed to the OS. */
  flush(): Promise<void>;
}

type DenoFile = { writeSync(data: Uint8Array): number; isTerminal(): boolean };
interface DenoLike {
  stdout: DenoFile;
  stderr: DenoFile;
  consoleSize(): { columns: number };
}
interface BunLike {
  stdout: unknown;
  stderr: unknown;
  write(destination: unknown, data: string): Promise<number>;
}

let current: ProcessIo | undefined;

/** The process's streams (created once). */
export function processIo(): ProcessIo {
  return current ??= create();
}

/** Flushes what the process's streams hold, if they were used. */
export function flushProcessIo(): Promise<void> {
  return current ? current.flush() : Promise.resolve();
}

function create(): ProcessIo {
  const g = globalThis as { Deno?: DenoLike; Bun?: BunLike };
  if (typeof g.Deno?.stdout?.writeSync === "function") return denoIo(g.Deno);
  if (typeof g.Bun?.write === "function") return bunIo(g.Bun);
  return nodeIo();
}

/** Node's streams: the fallback, and what Deno uses if a synchronous write fails oddly. */
function nodeIo(): ProcessIo {
  const process = nodeProcess();
  const closed = { 1: false, 2: false };
  const writer = (fd: 1 | 2) => {
    const stream = fd === 1 ? process.stdout : process.stderr;
    // A closed pipe is reported as an 'error' event, fatal if nobody listens.
    stream.on("error", (error: unknown) => {
      if (!isBrokenPipe(error)) throw error;
      closed[fd] = true;
    });
    return (text: string) => void (closed[fd] || stream.write(text));
  };
  return {
    stdout: writer(1),
    stderr: writer(2),
    isTTY: (fd) => (fd === 1 ? process.stdout : process.stderr).isTTY === true,
    columns: () => process.stdout.columns || process.stderr.columns || undefined,
    flush: () =>
      new Promise<void>((resolve) =>
        closed[1] ? resolve() : process.stdout.write("", () => resolve())
      ),
  };
}

function isBrokenPipe(error: unknown): boolean {
  const e = error as { code?: string; name?: string } | null;
  return e?.code === "EPIPE" || e?.name === "BrokenPipe" || e?.code === "ERR_STREAM_DESTROYED";
}

function denoIo(deno: DenoLike): ProcessIo {
  const encoder = new TextEncoder();
  let fallback: ProcessIo | undefined;
  const writer = (file: DenoFile, fd: 1 | 2) => {
    let closed = false;
    return (text: string) => {
      if (closed || text === "") return;
      if (fallback) return fallback[fd === 1 ? "stdout" : "stderr"](text);
      let data = encoder.encode(text);
      try {
        while (data.byteLength > 0) data = data.subarray(file.writeSync(data));
      } catch (error) {
        if (isBrokenPipe(error)) closed = true;
        else {
          // E.g. a non-blocking pipe that is full: Node's streams queue what is left.
          fallback = nodeIo();
          fallback[fd === 1 ? "stdout" : "stderr"](new TextDecoder().decode(data));
        }
      }
    };
  };
  const tty = (fd: 1 | 2) => {
    try {
      return (fd === 1 ? deno.stdout : deno.stderr).isTerminal();
    } catch {
      return false;
    }
  };
  return {
    stdout: writer(deno.stdout, 1),
    stderr: writer(deno.stderr, 2),
    isTTY: tty,
    columns: () => {
      if (!tty(1) && !tty(2)) return undefined;
      try {
        return deno.consoleSize().columns || undefined;
      } catch {
        return undefined;
      }
    },
    flush: () => fallback ? fallback.flush() : Promise.resolve(),
  };
}

function bunIo(bun: BunLike): ProcessIo {
  const process = nodeProcess();
  // One queue for both streams keeps their relative order (`2>&1`); pieces
  // written while a write is under way are joined into the next write.
  const queue: [1 | 2, string][] = [];
  const closed = { 1: false, 2: false };
  let running = false;
  let drained: Promise<void> = Promise.resolve();
  const drain = async () => {
    try {
      while (queue.length > 0) {
        const fd = queue[0]![0];
        let text = "";
        while (queue.length > 0 && queue[0]![0] === fd) text += queue.shift()![1];
        if (closed[fd]) continue;
        try {
          await bun.write(fd === 1 ? bun.stdout : bun.stderr, text);
        } catch {
          closed[fd] = true; // EPIPE and the like: nobody is reading any more.
        }
      }
    } finally {
      running = false;
    }
  };
  const writer = (fd: 1 | 2) => (text: string) => {
    if (closed[fd] || text === "") return;
    queue.push([fd, text]);
    if (!running) {
      running = true;
      drained = drain();
    }
  };
  let binding: { isTTY(fd: number): boolean } | undefined | null;
  const tty = (fd: 1 | 2) => {
    if (binding === undefined) {
      try {
        // Bun's native check; `node:tty` would load the stream modules.
        const b = (process as unknown as { binding(name: string): unknown }).binding("tty_wrap");
        binding = typeof (b as { isTTY?: unknown })?.isTTY === "function"
          ? b as { isTTY(fd: number): boolean }
          : null;
      } catch {
        binding = null;
      }
    }
    if (binding) return binding.isTTY(fd) === true;
    return (fd === 1 ? process.stdout : process.stderr).isTTY === true;
  };
  return {
    stdout: writer(1),
    stderr: writer(2),
    isTTY: tty,
    columns: () =>
      tty(1) || tty(2) ? process.stdout.columns || process.stderr.columns || undefined : undefined,
    flush: () => drained,
  };
}
