/**
 * The runtime's floor for the CLI figures of `deno task bench`: the same I/O
 * as the CLI with none of its work (no library, no validation, no table), so
 * RESULTS.md can show how much of a figure is the runtime's and how much is
 * ours. Runs under Deno (`deno run -A`) and compiled by Bun (the bench builds
 * it with the CLI's flags).
 *
 * ```sh
 * # The CLI's two requests: the bootstrap, then GET <path>; prints the body.
 * TINKER_BASE_URL=… TINKER_API_KEY=… deno run -A bench/_floor.ts requests /api/v1/training_runs
 * # With the bootstrap cached: GET <path> only; prints the body.
 * TINKER_BASE_URL=… TINKER_API_KEY=… deno run -A bench/_floor.ts request /api/v1/training_runs
 * # A download: GET <url> written to <file> chunk by chunk, synchronously.
 * deno run -A bench/_floor.ts download <url> <file>
 * ```
 *
 * @module
 */

interface Runtime {
  args: string[];
  env(name: string): string | undefined;
  /** Opens `path` for writing; returns a synchronous write. */
  create(path: string): Promise<{ write(chunk: Uint8Array): void; close(): void }>;
}

function runtime(): Runtime {
  const deno = (globalThis as {
    Deno?: {
      args: string[];
      env: { get(name: string): string | undefined };
      openSync(path: string, options: { write: true; create: true; truncate: true }): {
        writeSync(data: Uint8Array): number;
        close(): void;
      };
    };
  }).Deno;
  if (deno) {
    return {
      args: deno.args,
      env: (name) => deno.env.get(name),
      create(path) {
        const file = deno.openSync(path, { write: true, create: true, truncate: true });
        return Promise.resolve({
          write(chunk) {
            for (let at = 0; at < chunk.byteLength;) at += file.writeSync(chunk.subarray(at));
          },
          close: () => file.close(),
        });
      },
    };
  }
  const process = (globalThis as unknown as {
    process: { argv: string[]; env: Record<string, string | undefined> };
  }).process;
  return {
    args: process.argv.slice(2),
    env: (name) => process.env[name],
    async create(path) {
      const fs = await import("node:fs"); // Only here: importing it costs Bun ~1.5 ms at start.
      const fd = fs.openSync(path, "w");
      return {
        write(chunk) {
          for (let at = 0; at < chunk.byteLength;) {
            at += fs.writeSync(fd, chunk, at, chunk.byteLength - at);
          }
        },
        close: () => fs.closeSync(fd),
      };
    },
  };
}

const rt = runtime();
const [mode, target, file] = rt.args;
if ((mode === "requests" || mode === "request") && target) {
  const base = rt.env("TINKER_BASE_URL") ?? "";
  const key = rt.env("TINKER_API_KEY") ?? "";
  if (mode === "requests") {
    const config = await fetch(`${base}/api/v1/client/config`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ sdk_version: "0.0.0" }),
    });
    if (!config.ok) throw new Error(`POST /api/v1/client/config: ${config.status}`);
    await config.text();
  }
  const res = await fetch(`${base}${target}`, { headers: { "x-api-key": key } });
  if (!res.ok) throw new Error(`GET ${target}: ${res.status}`);
  console.log(await res.text());
} else if (mode === "download" && target && file) {
  const res = await fetch(target);
  if (!res.ok || !res.body) throw new Error(`GET: ${res.status}`);
  const out = await rt.create(file);
  try {
    for await (const chunk of res.body) out.write(chunk);
  } finally {
    out.close();
  }
} else {
  throw new Error("usage: _floor.ts requests|request <path> | download <url> <file>");
}
