// The few process facilities the CLI needs. In Deno they come from `Deno`:
// `node:process` (or the global `process`) loads Deno's Node compatibility
// layer on first touch, ~20 ms of a ~40 ms start. Bun and Node use their
// global `process`, which costs nothing there.

import type NodeProcess from "node:process";

type Process = typeof NodeProcess;

interface DenoLike {
  pid: number;
  kill(pid: number, signal: "SIGINT"): void;
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

/** This process's id. */
export function processId(): number {
  return deno ? deno.pid : nodeProcess().pid;
}

/**
 * Whether a process with this id is running (signal 0: nothing is sent).
 * Only "no such process" counts as gone; any other answer (e.g. not ours to
 * signal) counts as alive.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    if (deno) deno.kill(pid, 0 as unknown as "SIGINT");
    else nodeProcess().kill(pid, 0);
    return true;
  } catch (error) {
    const e = error as { code?: string; name?: string; message?: string };
    return !(e?.code === "ESRCH" || e?.name === "NotFound" || /ESRCH/.test(e?.message ?? ""));
  }
}
