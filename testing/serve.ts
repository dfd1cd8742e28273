/**
 * Runs the fake Tinker server as a standalone process.
 *
 * Prints one line of JSON (`{"url","apiKey","storageUrl"}`) to stdout, then a
 * human-readable line to stderr, and runs until SIGINT/SIGTERM (or until stdin
 * closes, with `--exit-on-stdin-close`). Options are one JSON argument.
 *
 * ```sh
 * deno run -A testing/serve.ts '{"archiveMode":"json","port":8080}'
 * bun run testing/serve.ts --exit-on-stdin-close
 * ```
 *
 * @module
 */
import process from "node:process";
import { startFakeTinker } from "./mod.ts";

const args = process.argv.slice(2);
const optionsArg = args.find((a) => !a.startsWith("--"));
const fake = await startFakeTinker(optionsArg ? JSON.parse(optionsArg) : {});
process.stdout.write(
  `${JSON.stringify({ url: fake.url, apiKey: fake.apiKey, storageUrl: fake.storageUrl })}\n`,
);
process.stderr.write(
  `fake Tinker server on ${fake.url} (storage ${fake.storageUrl}), API key ${fake.apiKey}\n`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await fake.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
if (args.includes("--exit-on-stdin-close")) {
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}
