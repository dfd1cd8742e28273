// Garbage collections on demand, for tests of what must keep working after
// one (what a runtime holds weakly is gone then).

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Runs a full garbage collection now and every `ms` until disposed: Bun's
 * `Bun.gc(true)`, else V8's `gc`, exposed through `node:v8` (so tests need
 * no `--v8-flags`).
 */
export function collectingGarbage(ms = 20): Disposable {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  let gc: () => void;
  if (bun) gc = () => bun.gc(true);
  else {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
  const timer = setInterval(gc, ms);
  return { [Symbol.dispose]: () => clearInterval(timer) };
}
