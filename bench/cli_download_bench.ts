/**
 * `tinker checkpoint download` from the fake server, run as a separate
 * process so its peak RSS (VmHWM from /proc, Linux) is the CLI's alone, with
 * `curl` of same-sized files from the same storage origin as the reference:
 *
 * - export: a training checkpoint through SDK 0.38's flow (session,
 *   `load_weights`, `save_weights_external`, every file, delete, finish);
 *   `curl` fetches the two files of an external-weights checkpoint of the
 *   same size (adapter config + safetensors);
 * - archive: the same checkpoint from a server without session routes (the
 *   fallback: one plain tar, extracted); `curl -o` fetches the tar.
 *
 * Runs `deno run cli.ts` and, if present, the Bun binary `./tinker`
 * (`deno task compile:bun`). Not a test: prints numbers.
 *
 * ```sh
 * deno run -A bench/cli_download_bench.ts [megabytes]
 * ```
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { RestClient } from "../mod.ts";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";

const megabytes = Number(process.argv[2] ?? 1024);
const root = new URL("..", import.meta.url).pathname;
const fake = await startFakeTinker({ archiveBytes: megabytes * 1024 * 1024 });
const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
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

/** Runs `argv` in `cwd`; wall time and peak RSS. */
async function measure(argv: string[], cwd: string) {
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
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
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr!.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${stderr}`);
  return { seconds: (performance.now() - started) / 1000, peakMiB: peakKb / 1024, stdout };
}

function line(label: string, bytes: number, r: { seconds: number; peakMiB: number }, ref?: number) {
  const rate = bytes / 1048576 / r.seconds;
  const ratio = ref === undefined ? "" : `  ${(rate / ref).toFixed(2)}× curl`;
  console.log(
    `${label.padEnd(34)} ${r.seconds.toFixed(2)} s  ${rate.toFixed(0).padStart(5)} MiB/s  ` +
      `peak RSS ${r.peakMiB.toFixed(1)} MB${ratio}`,
  );
  return rate;
}

for (const mode of ["export", "archive"] as const) {
  await fake.setOptions({ sessionRoutes: mode === "export" });
  const dir = await mkdtemp(join(tmpdir(), "tinker-bench-"));
  try {
    console.log(
      `\ncheckpoint download of ${megabytes} MiB weights, ${
        mode === "export"
          ? "through the export flow (two files)"
          : "through the archive route (plain tar)"
      }`,
    );
    // The reference: curl of the same bytes from the same storage origin.
    let curlArgs: string[];
    if (mode === "export") {
      const { urls } = await rest.getExternalWeightsUrls(FAKE_IDS.externalCheckpointPath);
      curlArgs = Object.entries(urls).flatMap(([name, url]) => ["-o", name, url]);
    } else {
      const { url } = await rest.getCheckpointArchiveUrlFromTinkerPath(FAKE_IDS.checkpointPath);
      curlArgs = ["-o", "archive.tar", url];
    }
    const curl = await measure(["curl", "-sSf", ...curlArgs], dir);
    const bytes = megabytes * 1048576;
    const ref = line("curl", bytes, curl);
    for (const [label, argv] of programs) {
      const target = join(dir, label.replace(/\W+/g, "-"));
      const args = ["-f", "json", "checkpoint", "download", FAKE_IDS.checkpointPath, "-o", target];
      const got = await measure([...argv, ...args], dir);
      const written = JSON.parse(got.stdout).file_size_bytes as number;
      line(label, written, got, ref);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
rest.close();
await fake.close();
