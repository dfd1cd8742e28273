/**
 * The OpenAI-compatible stream: time to first token and per-chunk cost of
 * `OpenAIClient.streamChatCompletion` against `curl -N` of the same stream
 * (and a raw `fetch` reading the same bytes, to tell the runtime's share from
 * the library's). The fake server runs in another process and answers at
 * once (no token delay), so every figure is client overhead.
 *
 * Writes its section of `bench/RESULTS.md` (between its markers; the rest of
 * the file is left as it is).
 *
 * ```sh
 * deno run -A bench/oai_stream_bench.ts [runs]   # default 200
 * ```
 *
 * @module
 */
import { OpenAIClient } from "../openai_client.ts";
import { FAKE_IDS, spawnFakeTinker } from "../testing/mod.ts";
import { loadAverage, writeSection } from "./_section.ts";

const RUNS = Number(Deno.args[0] ?? 200);
const WARMUP = 10;
const PACE_MS = 2;

const loadBefore = loadAverage();
const model = FAKE_IDS.publicCheckpointPath;
const request = { model, messages: [{ role: "user", content: "hello" }] };
const body = JSON.stringify({ ...request, stream: true });

interface Run {
  /** Milliseconds to the first token (curl: to the first byte, less its connect time). */
  first: number;
  /** Milliseconds to the end of the stream (curl: less its connect time). */
  total: number;
  /** Chunks with JSON (the library only). */
  chunks: number;
}

/** Every contender, `runs` times in each of four interleaved rounds, against one fake. */
async function measureAll(tokenDelayMs: number, runs: number) {
  await using fake = await spawnFakeTinker({ tokenDelayMs });
  const url = `${fake.url}/oai/api/v1/chat/completions`;
  const headers = {
    authorization: `Bearer ${fake.apiKey}`,
    "content-type": "application/json",
    accept: "text/event-stream",
  };
  const curl = async (): Promise<Run> => {
    const out = await new Deno.Command("curl", {
      args: [
        "-N",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{time_connect} %{time_starttransfer} %{time_total}",
        ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
        "--data-binary",
        body,
        url,
      ],
      stdout: "piped",
    }).output();
    const [connect, first, total] = new TextDecoder().decode(out.stdout).split(" ").map(Number);
    return { first: (first! - connect!) * 1000, total: (total! - connect!) * 1000, chunks: 0 };
  };
  const raw = async (): Promise<Run> => {
    const start = performance.now();
    const res = await fetch(url, { method: "POST", headers, body });
    let first = 0;
    for await (const _bytes of res.body!) if (first === 0) first = performance.now() - start;
    return { first, total: performance.now() - start, chunks: 0 };
  };
  using oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const library = async (): Promise<Run> => {
    const start = performance.now();
    let first = 0;
    let chunks = 0;
    for await (const chunk of oai.streamChatCompletion(request)) {
      if (first === 0 && chunk.choices[0]?.delta?.content) first = performance.now() - start;
      chunks++;
    }
    return { first, total: performance.now() - start, chunks };
  };
  const results = { curl: [] as Run[], fetch: [] as Run[], library: [] as Run[] };
  for (let round = 0; round < 4; round++) {
    for (const [name, once] of [["curl", curl], ["fetch", raw], ["library", library]] as const) {
      for (let i = 0; i < WARMUP; i++) await once();
      for (let i = 0; i < runs; i++) results[name].push(await once());
    }
  }
  return results;
}

const atOnce = await measureAll(0, RUNS);
const paced = await measureAll(PACE_MS, Math.max(10, Math.floor(RUNS / 4)));
const loadAfter = loadAverage();

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const median = (xs: number[]) => quantile(xs, 0.5);
const ms = (x: number) => `${x.toFixed(2)} ms`;
const us = (x: number) => `${(x * 1000).toFixed(0)} µs`;
const stat = (runs: Run[], key: "first" | "total") =>
  `${ms(median(runs.map((r) => r[key])))} (p90 ${ms(quantile(runs.map((r) => r[key]), 0.9))})`;
const chunks = median(atOnce.library.map((r) => r.chunks));
const total = (runs: Run[]) => median(runs.map((r) => r.total));
const names = [
  ["curl", "`curl -N` (reference; first byte, connect time excluded)"],
  ["fetch", "raw `fetch` in Deno reading the bytes (first read)"],
  ["library", "`OpenAIClient.streamChatCompletion` in Deno (first token)"],
] as const;

const ttft = median(atOnce.library.map((r) => r.first));
const curlFirst = median(atOnce.curl.map((r) => r.first));
const lines = [
  "## The OpenAI-compatible stream (`bench/oai_stream_bench.ts`)",
  "",
  `Measured ${
    new Date().toISOString().replace(/\.\d+Z$/, "Z")
  } with \`deno run -A bench/oai_stream_bench.ts ${RUNS}\`:`,
  `one streamed chat completion of ${chunks} chunks (a role chunk, one per token, a finish chunk, then`,
  "`[DONE]`) from the fake server in another process, received by `curl -N`, by a raw `fetch` that only",
  "reads the bytes, and by the library (which decodes, parses and checks every event). Machine:",
  `${machineLine()}; load average ${loadBefore} before, ${loadAfter} after (the 2 cores are shared with`,
  "other work: absolute times are noisy; compare rows measured together).",
  "",
  `**At once** (the server writes every event without pause; ${
    4 * RUNS
  } runs each after warm-up, in four`,
  "interleaved rounds): time to first token, and the whole stream.",
  "",
  "| client | first token | whole stream |",
  "| --- | --: | --: |",
  ...names.map(([key, name]) =>
    `| ${name} | ${stat(atOnce[key], "first")} | ${stat(atOnce[key], "total")} |`
  ),
  "",
  `**Paced** (${PACE_MS} ms between tokens, as a model generates them; ${
    4 * Math.max(10, Math.floor(RUNS / 4))
  } runs each): the whole stream, and how much longer than curl's it took, per chunk: the cost of`,
  "handling each chunk as it arrives.",
  "",
  "| client | whole stream | over curl, per chunk |",
  "| --- | --: | --: |",
  ...names.map(([key, name]) =>
    `| ${name} | ${stat(paced[key], "total")} | ${
      key === "curl" ? "—" : us((total(paced[key]) - total(paced.curl)) / chunks)
    } |`
  ),
  "",
  `Time to first token ${ms(ttft)} against curl's first byte at ${
    ms(curlFirst)
  } (curl's figure excludes`,
  "its connect; the library reuses a pooled connection, as any long-lived client does).",
];
await writeSection("oai-stream", lines);
console.log(lines.join("\n"));

function machineLine(): string {
  let cpu = "unknown CPU";
  try {
    cpu = /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? cpu;
  } catch {
    // Not Linux.
  }
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${Deno.build.os} ${Deno.build.arch}, Deno ${Deno.version.deno}`;
}
