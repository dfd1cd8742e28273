// Runs the `tinker` CLI in this process with the given arguments, then
// prints the process's peak resident memory (Linux `VmHWM`) as the last line
// of stderr, `peak-rss-kib <n>`, and exits with the CLI's code. For tests
// where memory is the point: each run is a fresh process, so its peak is its
// own.

import { main } from "../cli/_entry.ts";
import { flushProcessIo } from "../cli/_io.ts";

const code = await main(Deno.args);
const status = await Deno.readTextFile("/proc/self/status");
const kib = /VmHWM:\s+(\d+)/.exec(status)?.[1] ?? "NaN";
await flushProcessIo();
console.error(`peak-rss-kib ${kib}`);
Deno.exit(code);
