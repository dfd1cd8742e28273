/**
 * `forward_backward` of a realistic batch: this client (Deno and Bun)
 * against the official Python SDK 0.38, both training on the same fake server
 * (a separate process, so its work is not on the clients' clock). Each call
 * sends the batch as protobuf, polls its future and decodes the protobuf
 * result; the fake's bigram model does the same work for every client, so the
 * differences are the clients'.
 *
 * Prints a table and one line of JSON; `--write` also writes its section of
 * `bench/RESULTS.md` (with the machine and the load), which `deno task bench`
 * keeps. Not a test.
 *
 * ```sh
 * deno run -A bench/fwdbwd_bench.ts [calls] [--write]
 * ```
 *
 * @module
 */
import process from "node:process";
import { type Datum, ModelInput, ServiceClient } from "../mod.ts";
import { loadAverage, runSide, writeSection } from "./_section.ts";

interface Args {
  url: string;
  apiKey: string;
  calls: number;
  datums: number;
  tokens: number;
}

interface Figures {
  runtime: string;
  fwdbwdMs: number;
}

/** The batch: `datums` sequences of `tokens` tokens, the first 64 of each weighted 0. */
function batch(args: Args): Datum[] {
  return Array.from({ length: args.datums }, (_, i) => {
    const tokens = Array.from({ length: args.tokens + 1 }, (_, j) => (i * 7 + j * 13) % 50000);
    return {
      model_input: ModelInput.fromInts(tokens.slice(0, -1)),
      loss_fn_inputs: {
        target_tokens: tokens.slice(1),
        weights: Array.from({ length: args.tokens }, (_, j) => (j < 64 ? 0 : 1)),
      },
    };
  });
}

/** Our side, in the runtime that runs this file. */
async function client(args: Args): Promise<Figures> {
  await using service = new ServiceClient({ baseUrl: args.url, apiKey: args.apiKey });
  const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
  const data = batch(args);
  for (let i = 0; i < 3; i++) await training.forwardBackward(data, "cross_entropy"); // warm-up
  const started = performance.now();
  for (let i = 0; i < args.calls; i++) await training.forwardBackward(data, "cross_entropy");
  const fwdbwdMs = (performance.now() - started) / args.calls;
  const runtime = "Bun" in globalThis
    ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
    : `Deno ${Deno.version.deno}`;
  return { runtime, fwdbwdMs };
}

const run = (command: string[], input: Args) => runSide<Figures>(command, input);

if (process.argv[2]?.startsWith("{")) {
  console.log(JSON.stringify(await client(JSON.parse(process.argv[2]))));
} else {
  const { spawnFakeTinker } = await import("../testing/mod.ts");
  const write = process.argv.includes("--write");
  const calls = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20);
  const loadBefore = loadAverage();
  const root = new URL("../", import.meta.url).pathname;
  await using fake = await spawnFakeTinker();
  const args: Args = { url: fake.url, apiKey: fake.apiKey, calls, datums: 64, tokens: 512 };
  const bytes = async (figures: () => Promise<Figures>) => {
    await fake.clearLog();
    const result = await figures();
    const sent = (await fake.requests()).filter((r) => r.path === "/api/v1/forward_backward");
    return { ...result, requestBytes: sent.at(-1)?.bytes.byteLength ?? 0 };
  };
  const rows = [
    await bytes(() => run([Deno.execPath(), "run", "-A", `${root}bench/fwdbwd_bench.ts`], args)),
    await bytes(() => run(["npx", "-y", "bun@1.4.5", "run", `${root}bench/fwdbwd_bench.ts`], args)),
    await bytes(() => run([`${root}.venv/bin/python`, `${root}bench/fwdbwd_bench.py`], args)),
  ];
  const python = rows[2]!;
  console.log(
    `forward_backward of ${args.datums} × ${args.tokens} tokens (${calls} sequential calls):`,
  );
  for (const row of rows) {
    const vs = row === python ? "" : ` (${(python.fwdbwdMs / row.fwdbwdMs).toFixed(2)}× the SDK)`;
    console.log(
      `  ${row.runtime.padEnd(32)} ${row.fwdbwdMs.toFixed(1)} ms per call${vs}, ` +
        `request ${row.requestBytes} bytes`,
    );
  }
  console.log(JSON.stringify(rows));
  if (write) await writeResults(rows, args, loadBefore, loadAverage());
}

/** Writes this bench's section of bench/RESULTS.md. */
async function writeResults(
  rows: (Figures & { requestBytes: number })[],
  args: Args,
  loadBefore: string,
  loadAfter: string,
): Promise<void> {
  const python = rows.at(-1)!;
  const cpu = (Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/) ?? [])[1];
  const lines = [
    "## `forward_backward` of a realistic batch (bench/fwdbwd_bench.ts)",
    "",
    `Measured ${new Date().toISOString().replace(/\.\d+Z$/, "Z")} by ` +
    `\`deno run -A bench/fwdbwd_bench.ts ${args.calls} --write\` (not part of \`deno task bench\`, ` +
    "which keeps this section). The fake server runs in its own process; each " +
    `client creates one LoRA training client of \`Qwen/Qwen3-8B\`, warms up with 3 calls, then ` +
    `times ${args.calls} sequential \`forward_backward\` of ${args.datums} datums × ${args.tokens} ` +
    "tokens (`target_tokens` and `weights`; `cross_entropy`): each a protobuf request, its future " +
    "and a protobuf result. The fake's bigram model does the same work for every client.",
    "",
    "| client | `forward_backward` per call | vs Python SDK | request body |",
    "| --- | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.runtime} | ${r.fwdbwdMs.toFixed(1)} ms | ${
        r === python ? "—" : `${(r.fwdbwdMs / python.fwdbwdMs).toFixed(2)}×`
      } | ${r.requestBytes} bytes |`
    ),
    "",
    `Machine: ${cpu ?? "unknown CPU"}, ${navigator.hardwareConcurrency} cores; load (1-minute ` +
    `average) ${loadBefore} before, ${loadAfter} after: other work shared the cores, so compare ` +
    "the ratios, not the times.",
  ];
  await writeSection("fwdbwd", lines);
}
