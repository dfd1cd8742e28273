/**
 * `.result()` against `await`: 1,000 sequential `getTrainingRun` calls each,
 * interleaved in blocks, against a spawned fake server; plus the first
 * `.result()` of a client (cold worker). Runs under Deno and Bun:
 *
 * ```sh
 * deno run -A bench/result_bench.ts
 * npx -y bun@1.4.5 run bench/result_bench.ts
 * ```
 *
 * @module
 */

import { RestClient } from "../mod.ts";
import { FAKE_IDS, spawnFakeTinker } from "../testing/mod.ts";

const CALLS = 1000;
const BLOCK = 50;
const COLD_RUNS = 10;

const fake = await spawnFakeTinker();
const options = { baseUrl: fake.url, apiKey: fake.apiKey };

function stats(ms: number[]): { median: number; p90: number; mean: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p90: at(0.9), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

// Cold: a fresh client whose bootstrap already ran on this thread, so the
// first .result() pays only the worker start (and its own connection).
const cold: number[] = [];
const coldSecond: number[] = [];
for (let i = 0; i < COLD_RUNS; i++) {
  const rest = new RestClient(options);
  await rest.getTrainingRun(FAKE_IDS.run);
  let t = performance.now();
  rest.getTrainingRun(FAKE_IDS.run).result();
  cold.push(performance.now() - t);
  t = performance.now();
  rest.getTrainingRun(FAKE_IDS.run).result();
  coldSecond.push(performance.now() - t);
  rest.close();
}

const rest = new RestClient(options);
for (let i = 0; i < 100; i++) {
  rest.getTrainingRun(FAKE_IDS.run).result();
  await rest.getTrainingRun(FAKE_IDS.run);
}
const sync: number[] = [];
const viaAwait: number[] = [];
while (sync.length < CALLS) {
  for (let i = 0; i < BLOCK; i++) {
    const t = performance.now();
    rest.getTrainingRun(FAKE_IDS.run).result();
    sync.push(performance.now() - t);
  }
  for (let i = 0; i < BLOCK; i++) {
    const t = performance.now();
    await rest.getTrainingRun(FAKE_IDS.run);
    viaAwait.push(performance.now() - t);
  }
}
rest.close();
await fake.close();

const runtime = "Bun" in globalThis
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`;
const s = stats(sync);
const a = stats(viaAwait);
const c = stats(cold);
const f = (n: number) => n.toFixed(3).padStart(8);
console.log(`${runtime}: ${CALLS} sequential getTrainingRun calls each (ms per call)`);
console.log(`              median       p90      mean`);
console.log(`.result() ${f(s.median)}  ${f(s.p90)}  ${f(s.mean)}`);
console.log(`await     ${f(a.median)}  ${f(a.p90)}  ${f(a.mean)}`);
console.log(`extra     ${f(s.median - a.median)}  ${f(s.p90 - a.p90)}  ${f(s.mean - a.mean)}`);
console.log(
  `first .result() of a client (cold worker), ${COLD_RUNS} clients: median ${f(c.median)}, ` +
    `max ${f(Math.max(...cold))}; second call median ${f(stats(coldSecond).median)}`,
);
