/**
 * Library figures of `deno task bench`, for the runtime that runs this file
 * (Deno or Bun), against an already running fake server (a separate process):
 *
 * - per-call overhead: sequential `getTrainingRun` calls against raw `fetch` +
 *   `JSON.parse` of the same URL, interleaved in blocks so drift hits both
 *   (and in alternating order, so neither always runs right after the other);
 * - paging: `for await` over every user checkpoint (`limit: 100`);
 * - concurrency: `Promise.all` of concurrent `getTrainingRun` calls.
 *
 * Prints one line of JSON (times in milliseconds). Not a test.
 *
 * ```sh
 * deno run -A bench/lib_bench.ts '{"url":"…","apiKey":"…","runId":"…"}'
 * npx -y bun@1.4.5 run bench/lib_bench.ts '{"url":"…","apiKey":"…","runId":"…"}'
 * ```
 *
 * @module
 */
import process from "node:process";
import { RestClient } from "../mod.ts";

interface Args {
  url: string;
  apiKey: string;
  runId: string;
  calls?: number;
  block?: number;
  pagingRepeats?: number;
  pagingItems?: number;
  concurrent?: number;
  concurrencyRepeats?: number;
  /** `"paging"` or `"concurrency"`: only that figure (e.g. against a server with latency). */
  only?: string;
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args;
const calls = args.calls ?? 2000;
const block = args.block ?? 100;
const concurrent = args.concurrent ?? 100;

/** Median of `values`. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const rest = new RestClient({ baseUrl: args.url, apiKey: args.apiKey });
const rawUrl = `${args.url}/api/v1/training_runs/${args.runId}?access_scope=owned`;
const headers = { "X-API-Key": args.apiKey, Accept: "application/json" };

async function raw(): Promise<unknown> {
  const res = await fetch(rawUrl, { headers });
  if (!res.ok) throw new Error(`raw fetch: ${res.status}`);
  return JSON.parse(await res.text());
}

async function perCall(): Promise<Record<string, number>> {
  // Warm-up: bootstrap, connections, JIT.
  for (let i = 0; i < 200; i++) {
    await rest.getTrainingRun(args.runId);
    await raw();
  }
  let ours = 0;
  let reference = 0;
  const oursBlocks: number[] = [];
  const rawBlocks: number[] = [];
  const time = async (call: () => Promise<unknown>) => {
    const t = performance.now();
    for (let i = 0; i < block; i++) await call();
    return performance.now() - t;
  };
  const lib = () => rest.getTrainingRun(args.runId);
  for (let done = 0; done < calls; done += block) {
    // Which one goes first alternates, so that neither always follows the other.
    let a: number;
    let b: number;
    if ((done / block) % 2 === 0) {
      a = await time(lib);
      b = await time(raw);
    } else {
      b = await time(raw);
      a = await time(lib);
    }
    ours += a;
    reference += b;
    oursBlocks.push(a / block);
    rawBlocks.push(b / block);
  }
  return {
    calls,
    oursMeanMs: ours / calls,
    rawMeanMs: reference / calls,
    oursBlockMedianMs: median(oursBlocks),
    rawBlockMedianMs: median(rawBlocks),
  };
}

async function paging(): Promise<Record<string, number>> {
  const times: number[] = [];
  let items = 0;
  let pages = 0;
  for (let r = 0; r < (args.pagingRepeats ?? 3) + 1; r++) {
    const t = performance.now();
    items = 0;
    pages = 0;
    for await (const page of rest.listUserCheckpoints({ limit: 100 }).pages()) {
      pages++;
      items += page.checkpoints.length;
    }
    if (r > 0) times.push(performance.now() - t); // the first walk is a warm-up
  }
  if (args.pagingItems !== undefined && items !== args.pagingItems) {
    throw new Error(`paging walked ${items} items, expected ${args.pagingItems}`);
  }
  return { items, pages, medianMs: median(times) };
}

async function concurrency(): Promise<Record<string, number>> {
  const times: number[] = [];
  const repeats = args.concurrencyRepeats ?? 10;
  for (let r = 0; r < repeats + 1; r++) {
    const t = performance.now();
    const runs = await Promise.all(
      Array.from({ length: concurrent }, () => rest.getTrainingRun(args.runId)),
    );
    if (runs.length !== concurrent) throw new Error("lost a call");
    if (r > 0) times.push(performance.now() - t);
  }
  return { calls: concurrent, medianMs: median(times) };
}

const runtime = "Bun" in globalThis
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`;
const out: Record<string, unknown> = { runtime };
await rest.getTrainingRun(args.runId); // bootstrap
if (args.only === undefined || args.only === "perCall") out.perCall = await perCall();
if (args.only === undefined || args.only === "paging") out.paging = await paging();
if (args.only === undefined || args.only === "concurrency") out.concurrency = await concurrency();
rest.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
