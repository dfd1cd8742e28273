// Where `.result()` must not block: the origins of servers that run on this
// thread. A server the library knows of (the in-process fake of `testing/`)
// registers its origins here; a blocking call to one of them could never be
// answered (the thread that would answer is the one blocked), so `.result()`
// refuses it before sending anything. The registry lives on `globalThis`
// under a well-known symbol, so two copies of the package share it and the
// library never imports `testing/`.

const REGISTRY = Symbol.for("@tinker-ts/tinker.inProcessServers");

/** The registry: origin → how many live servers on this thread serve it. */
function registry(): Map<string, number> {
  const g = globalThis as { [REGISTRY]?: Map<string, number> };
  return g[REGISTRY] ??= new Map();
}

/**
 * Records that `url`'s origin is served on this thread until the returned
 * function is called (once; later calls do nothing).
 */
export function registerInProcessServer(url: string): () => void {
  const origin = new URL(url).origin;
  const servers = registry();
  servers.set(origin, (servers.get(origin) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (servers.get(origin) ?? 1) - 1;
    if (left > 0) servers.set(origin, left);
    else servers.delete(origin);
  };
}

/** Whether `url`'s origin is served by a server of this thread. */
export function servedOnThisThread(url: string): boolean {
  const servers = (globalThis as { [REGISTRY]?: Map<string, number> })[REGISTRY];
  if (servers === undefined || servers.size === 0) return false;
  try {
    return servers.has(new URL(url).origin);
  } catch {
    return false;
  }
}
