// The CLI's source entry: `main` for a caller, `runProcess` for a program.
// `cli.bundle.js`, which `cli.ts` runs, is bundled from this file, and the Bun
// binary is compiled from it (`deno task compile:bun`). Tests and the demo
// import it, so they run the sources as they are.

import type { CliIo } from "./_context.ts";

/**
 * See `main` in `cli.ts`. Command modules are imported only when their
 * command runs, so `tinker version` or `--help` load almost nothing.
 */
export async function main(args: string[], io: CliIo = {}): Promise<number> {
  const { run } = await import("./_main.ts");
  return await run(args, io);
}

/** Runs the CLI as this process: its arguments, its streams, its exit code. */
export async function runProcess(): Promise<never> {
  const { processArgs, processEnv, exitProcess } = await import("./_process.ts");
  // The bootstrap cache's file is read while the CLI loads.
  (await import("./_cache.ts")).prefetchBootstrapCache(processEnv());
  const code = await main(processArgs());
  // Exit once the output is flushed, without waiting for idle keep-alive sockets.
  const { flushProcessIo } = await import("./_io.ts");
  await flushProcessIo();
  return exitProcess(code);
}

if (import.meta.main) await runProcess();
