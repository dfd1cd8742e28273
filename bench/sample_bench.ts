/**
 * `sample` per call: this client (Deno and Bun) against the official Python
 * SDK 0.38, both sampling from the same fake server (a separate process, so
 * its work is not on the clients' clock), the sampling session created once.
 *
 * - sequential: `await sampler.sample(prompt, 1, { max_tokens: 8 })`, one
 *   after another (each is asample + the long-poll + retrieve_future);
 * - computeLogprobs: the same, for `compute_logprobs`;
 * - concurrent: 32 samples at once (they share one long-poll), wall time.
 *
 * Also counts the requests each side sends per sample. Prints a table and
 * one line of JSON; `--write` also writes its section of `bench/RESULTS.md`
 * (with the machine and the load), which `deno task bench` keeps. Not a test.
 *
 * ```sh
 * deno run -A bench/sample_bench.ts [calls] [--write]
 * ```
 *
 * @module
 */
import process from "node:process";
import { ModelInput, ServiceClient } from "../mod.ts";
import { loadAverage, runSide, writeSection } from "./_section.ts";

interface Args {
  url: string;
  apiKey: string;
  calls: number;
  concurrent: number;
}

interface Figures {
  runtime: string;
  sampleMs: number;
  logprobsMs: number;
  concurrentMs: number;
}

const PROMPT = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3];

/** Our side, in the runtime that runs this file. */
async function client(args: Args): Promise<Figures> {
  await using service = new ServiceClient({ baseUrl: args.url, apiKey: args.apiKey });
  const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
  const prompt = ModelInput.fromInts(PROMPT);
  const params = { max_tokens: 8, seed: 1 };
  for (let i = 0; i < 20; i++) await sampler.sample(prompt, 1, params); // warm-up
  let started = performance.now();
  for (let i = 0; i < args.calls; i++) await sampler.sample(prompt, 1, params);
  const sampleMs = (performance.now() - started) / args.calls;
  started = performance.now();
  for (let i = 0; i < args.calls; i++) await sampler.computeLogprobs(prompt);
  const logprobsMs = (performance.now() - started) / args.calls;
  const rounds = 5;
  started = performance.now();
  for (let r = 0; r < rounds; r++) {
    await Promise.all(
      Array.from({ length: args.concurrent }, () => sampler.sample(prompt, 1, params)),
    );
  }
  const concurrentMs = (performance.now() - started) / rounds;
  const runtime = "Bun" in globalThis
    ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
    : `Deno ${Deno.version.deno}`;
  return { runtime, sampleMs, logprobsMs, concurrentMs };
}

const run = (command: string[], input: Args) => runSide<Figures>(command, input);

if (process.argv[2]?.startsWith("{")) {
  console.log(JSON.stringify(await client(JSON.parse(process.argv[2]))));
} else {
  const { spawnFakeTinker } = await import("../testing/mod.ts");
  const write = process.argv.includes("--write");
  const calls = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 300);
  const loadBefore = loadAverage();
  const root = new URL("../", import.meta.url).pathname;
  await using fake = await spawnFakeTinker();
  const args: Args = { url: fake.url, apiKey: fake.apiKey, calls, concurrent: 32 };
  const requestsPerSample = async (figures: () => Promise<Figures>) => {
    await fake.clearLog();
    const result = await figures();
    const log = await fake.requests();
    const samples = log.filter((r) => r.path === "/api/v1/asample").length;
    const sent = log.filter((r) =>
      ["/api/v1/asample", "/api/v1/retrieve_future", "/api/v1/retrieve_futures"].includes(r.path)
    ).length;
    return { ...result, requestsPerSample: sent / samples };
  };
  const rows = [
    await requestsPerSample(() =>
      run([Deno.execPath(), "run", "-A", `${root}bench/sample_bench.ts`], args)
    ),
    await requestsPerSample(() =>
      run(["npx", "-y", "bun@1.4.5", "run", `${root}bench/sample_bench.ts`], args)
    ),
    await requestsPerSample(() =>
      run([`${root}.venv/bin/python`, `${root}bench/sample_bench.py`], args)
    ),
  ];
  const python = rows[2]!;
  console.log(
    `sample per call (${calls} sequential, max_tokens 8), computeLogprobs, ${args.concurrent} concurrent:`,
  );
  for (const row of rows) {
    const vs = row === python ? "" : ` (${(python.sampleMs / row.sampleMs).toFixed(1)}× faster)`;
    console.log(
      `  ${row.runtime.padEnd(32)} sample ${row.sampleMs.toFixed(2)} ms${vs}, ` +
        `computeLogprobs ${row.logprobsMs.toFixed(2)} ms, ${args.concurrent} concurrent ` +
        `${row.concurrentMs.toFixed(1)} ms, ${row.requestsPerSample.toFixed(2)} requests/sample`,
    );
  }
  console.log(JSON.stringify(rows));
  if (write) {
    await writeResults(rows, calls, args.concurrent, loadBefore, loadAverage());
  }
}

/** Writes this bench's section of bench/RESULTS.md. */
async function writeResults(
  rows: (Figures & { requestsPerSample: number })[],
  calls: number,
  concurrent: number,
  loadBefore: string,
  loadAfter: string,
): Promise<void> {
  const python = rows.at(-1)!;
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const cpu = (Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/) ?? [])[1];
  const lines = [
    "## `sample` per call (bench/sample_bench.ts)",
    "",
    `Measured ${
      new Date().toISOString().replace(/\.\d+Z$/, "Z")
    } by \`deno run -A bench/sample_bench.ts ${calls} --write\` ` +
    `(not part of \`deno task bench\`, which keeps this section). The fake server ` +
    "runs in its own process; each client creates one sampling session of `Qwen/Qwen3-8B`, warms " +
    `up with 20 samples, then times ${calls} sequential \`sample(prompt, 1, { max_tokens: 8 })\` ` +
    `(16 prompt tokens), ${calls} sequential \`computeLogprobs\`, and 5 rounds of ${concurrent} ` +
    "concurrent samples (which share one `retrieve_futures` long poll). Requests per sample count " +
    "`asample`, `retrieve_futures` and `retrieve_future`.",
    "",
    "| client | `sample` per call | vs Python SDK | `computeLogprobs` per call | " +
    `${concurrent} concurrent samples | requests per sample |`,
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.runtime} | ${ms(r.sampleMs)} | ${
        r === python ? "—" : `${(r.sampleMs / python.sampleMs).toFixed(2)}×`
      } | ${ms(r.logprobsMs)} | ${r.concurrentMs.toFixed(1)} ms | ${
        r.requestsPerSample.toFixed(2)
      } |`
    ),
    "",
    `Machine: ${cpu ?? "unknown CPU"}, ${navigator.hardwareConcurrency} cores; load (1-minute ` +
    `average) ${loadBefore} before, ${loadAfter} after: other work shared the cores, so compare ` +
    "the ratios, not the times.",
  ];
  await writeSection("sample", lines);
}
