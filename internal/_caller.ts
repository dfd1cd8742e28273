// The caller's frames for errors that reach it through `await`. The request
// runs later, from the event loop, so an error thrown there has only the
// library's frames; the call site is captured when the future is created
// (`Error.captureStackTrace` on a plain object: the frames are recorded,
// and turned into text only if an error needs them) and becomes the error's
// stack when the future rejects with it.

type Capture = (target: object, constructorOpt?: unknown) => void;

const capture = (Error as { captureStackTrace?: Capture }).captureStackTrace;
const ATTACHED = Symbol("tinker.callerAttached");

/**
 * The library's modules (`internal/*`, the clients at the package root, …),
 * as source or build output. Built when an error first needs it, not at load.
 */
let libraryFrame: RegExp | undefined;

function isLibraryFrame(line: string): boolean {
  if (libraryFrame === undefined) {
    const root = new URL("..", import.meta.url).href.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    libraryFrame = new RegExp(
      `${root}(?:internal/_\\w+|\\w+_client|errors|tinker_path|model_input|tensor_data|mod)\\.(?:ts|js|mjs):`,
    );
  }
  return libraryFrame.test(line);
}

/** A recorded call site. */
export interface CallSite {
  /** The frames, formatted on first read. */
  readonly stack?: string;
}

/** Records the current call stack (cheap: formatted only when read), or undefined where unsupported. */
export function captureCaller(): CallSite | undefined {
  if (capture === undefined) return undefined;
  // Within the runtime's frame limit (10 by default), of which the library's
  // own take 3–6. No `constructorOpt`: V8 takes about three times as long
  // with one, and the library's frames are dropped when formatting anyway.
  const site = {};
  capture(site);
  return site;
}

/**
 * Sets `error`'s stack to the caller's frames (the library's own dropped),
 * once per error; returns `error`. The error's own frames (the library's
 * steps, run from the event loop) are replaced, not read: reading them
 * would make Deno print those instead of this string for an uncaught error.
 * `.result()` does the same (its stack starts at the caller).
 */
export function withCaller(error: unknown, site: CallSite | undefined): unknown {
  if (site === undefined || !(error instanceof Error)) return error;
  const record = error as Error & { [ATTACHED]?: true };
  if (record[ATTACHED]) return error;
  const frames = callerFrames(site.stack);
  if (frames === "") return error;
  try {
    record.stack = `${error.name}: ${error.message}\n${frames}`;
    record[ATTACHED] = true;
  } catch {
    // A frozen error keeps its stack.
  }
  return error;
}

/** The frame lines of a captured stack, without its header and the library's leading frames. */
function callerFrames(stack: string | undefined): string {
  if (stack === undefined) return "";
  const lines = stack.split("\n");
  // V8: a header line ("Error"), then "    at …"; JavaScriptCore: frames only.
  let start = lines[0] !== undefined && !/^\s+at |@/.test(lines[0]) ? 1 : 0;
  while (start < lines.length - 1 && isLibraryFrame(lines[start]!)) start++;
  return lines.slice(start).join("\n").trimEnd();
}
