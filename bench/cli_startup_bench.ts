/**
 * Wall time of `tinker run list` (process start to exit, 10 runs each)
 * against a standalone fake server: the Bun binary `./tinker` (if built),
 * `deno run cli.ts`, and the official Python CLI (if `.venv/bin/tinker`
 * exists). Not a test: prints numbers.
 *
 * ```sh
 * deno run -A bench/cli_startup_bench.ts [runs]
 * ```
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { spawnFakeTinker } from "../testing/mod.ts";

const runs = Number(process.argv[2] ?? 10);
const root = new URL("..", import.meta.url).pathname;
const fake = await spawnFakeTinker();
const env = {
  PATH: process.env.PATH ?? "",
  TINKER_API_KEY: fake.apiKey,
  TINKER_BASE_URL: fake.url,
  TINKER_TELEMETRY: "0",
  COLUMNS: "120",
};

const programs: [string, string[]][] = [];
if (existsSync(join(root, "tinker"))) {
  programs.push(["bun binary ./tinker", [join(root, "tinker")]]);
}
programs.push(["deno run -A cli.ts", [process.execPath, "run", "-A", join(root, "cli.ts")]]);
const official = join(root, ".venv/bin/tinker");
if (existsSync(official)) programs.push(["official (Python 0.38)", [official]]);

function once(argv: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(argv[0]!, [...argv.slice(1), "run", "list"], { env, stdio: "ignore" });
  return new Promise((resolve, reject) =>
    child.once(
      "close",
      (code) =>
        code === 0
          ? resolve(performance.now() - started)
          : reject(new Error(`${argv[0]} exited ${code}`)),
    )
  );
}

console.log(`tinker run list, ${runs} runs each (ms)`);
for (const [label, argv] of programs) {
  await once(argv); // warm the file cache
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once(argv));
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `${label.padEnd(24)} median ${median.toFixed(0).padStart(5)}  mean ${
      mean.toFixed(0).padStart(5)
    }  ` +
      `min ${times[0]!.toFixed(0).padStart(5)}  max ${times.at(-1)!.toFixed(0).padStart(5)}`,
  );
}
await fake.close();
