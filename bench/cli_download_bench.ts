/**
 * `tinker checkpoint download` of a 200 MB archive from the fake server, run
 * as a separate process so its peak RSS (VmHWM from /proc, Linux) is the
 * CLI's alone. Runs `deno run cli.ts` and, if present, the Bun binary
 * `./tinker` (`deno task compile:bun`). Not a test: prints numbers.
 *
 * ```sh
 * deno run -A bench/cli_download_bench.ts [megabytes]
 * ```
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";

const megabytes = Number(process.argv[2] ?? 200);
const root = new URL("..", import.meta.url).pathname;
const fake = await startFakeTinker({ archiveBytes: megabytes * 1024 * 1024 });
const env = {
  PATH: process.env.PATH ?? "",
  TINKER_API_KEY: fake.apiKey,
  TINKER_BASE_URL: fake.url,
};

const programs: [string, string[]][] = [
  ["deno run cli.ts", [process.execPath, "run", "-A", join(root, "cli.ts")]],
];
if (existsSync(join(root, "tinker"))) {
  programs.push(["bun binary ./tinker", [join(root, "tinker")]]);
}

console.log(
  `checkpoint download of a ${megabytes} MiB archive (plain tar), peak RSS of the CLI process`,
);
for (const [label, argv] of programs) {
  const dir = await mkdtemp(join(tmpdir(), "tinker-bench-"));
  const started = performance.now();
  const child = spawn(argv[0]!, [
    ...argv.slice(1),
    "-f",
    "json",
    "checkpoint",
    "download",
    FAKE_IDS.checkpointPath,
    "-o",
    dir,
  ], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let peakKb = 0;
  const poll = setInterval(async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch {
      // The process has exited.
    }
  }, 20);
  let stdout = "";
  child.stdout!.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  const out = JSON.parse(stdout);
  const size = (await stat(join(out.destination, "adapter_model.safetensors"))).size;
  console.log(
    `${label.padEnd(20)} exit ${code}  ${seconds.toFixed(2)} s  ${
      (megabytes / seconds).toFixed(0)
    } MiB/s  ` +
      `peak RSS ${(peakKb / 1024).toFixed(0)} MiB  (extracted ${(size / 1048576).toFixed(0)} MiB)`,
  );
  await rm(dir, { recursive: true, force: true });
}
await fake.close();
