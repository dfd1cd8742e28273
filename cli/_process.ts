// The few process facilities the CLI needs. In Deno they come from `Deno`:
// `node:process` (or the global `process`) loads Deno's Node compatibility
// layer on first touch, ~20 ms of a ~40 ms start. Bun and Node use their
// global `process`, which costs nothing there.

import type NodeProcess from "node:process";

type Process = typeof NodeProcess;

interface DenoLike {
  args: string[];
  env: { toObject(): Record<string, string> };
  cwd(): string;
  exit(code?: number): never;
  addSignalListener(signal: "SIGINT", handler: () => void): void;
  removeSignalListener(signal: "SIGINT", handler: () => void): void;
}

const deno = (globalThis as { Deno?: DenoLike }).Deno;

/** Node's `process` (the global; in Deno it is loaded on first use). */
export function nodeProcess(): Process {
  return (globalThis as unknown as { process: Process }).process;
}

/** The command-line arguments after the program (and script) name. */
export function processArgs(): string[] {
  return deno ? deno.args : nodeProcess().argv.slice(2);
}

/** The environment variables. */
export function processEnv(): Record<string, string | undefined> {
  return deno ? deno.env.toObject() : nodeProcess().env;
}

/** The working directory. */
export function processCwd(): string {
  return deno ? deno.cwd() : nodeProcess().cwd();
}

/** Exits the process with `code`. */
export function exitProcess(code: number): never {
  if (deno) deno.exit(code);
  return nodeProcess().exit(code);
}

/** Calls `handler` on SIGINT (Ctrl-C); returns the function that stops it. */
export function onInterrupt(handler: () => void): () => void {
  if (deno) {
    deno.addSignalListener("SIGINT", handler);
    return () => deno.removeSignalListener("SIGINT", handler);
  }
  const process = nodeProcess();
  process.on("SIGINT", handler);
  return () => void process.off("SIGINT", handler);
}
