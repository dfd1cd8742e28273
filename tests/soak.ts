// Soak: thousands of mixed calls (reads, pages, full iterations, writes) from
// 50 concurrent callers against an in-process fake with ~10% injected faults
// (seeded, so a run can be replayed). Every call must return the right data
// (checked against the fake's state) or a typed error (an ApiError subclass);
// none may hang (per-call deadline); no write may be resent after a failure
// that may have reached the server; memory must stay flat.
//
//   deno task soak              calls for 2 minutes (at least 10,000)
//   deno task soak --short      calls for 20 s (at least 2,000): the CI form
//   options: --seconds N --min-calls N --concurrency N --seed N --fault-rate 0.1
//
// Exits 1 on any untyped error, hang, wrong data, duplicate write or memory growth.

import { ApiError, ConflictError, NotFoundError, RestClient } from "../mod.ts";
import { type FakeCheckpoint, type Fault, startFakeTinker } from "../testing/mod.ts";

// ---- options ------------------------------------------------------------------

function option(name: string, fallback: number): number {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Number(Deno.args[at + 1]) : fallback;
}
const SHORT = Deno.args.includes("--short");
const MIN_CALLS = option("min-calls", SHORT ? 2_000 : 10_000);
const CONCURRENCY = option("concurrency", 50);
const BUDGET_MS = option("seconds", SHORT ? 20 : 120) * 1000;
const SEED = option("seed", 1);
const FAULT_RATE = option("fault-rate", 0.1);
const DEADLINE_MS = 15_000;
const TIMEOUT_MS = 250;
const MAX_HEAP_GROWTH_MB = 40;

/** mulberry32. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

// ---- the fake and the client -------------------------------------------------------

const fake = await startFakeTinker({ seed: { userCheckpoints: 3_000 } });
const state = fake.state!;
const RUNS = state.listRuns(false).map((r) => r.training_run_id);
const SESSIONS = state.listSessions(false).map((s) => s.session_id);
const SAMPLERS = [...state.samplers.keys()];

/** Calls whose first attempt must find the port closed (a real connect failure). */
const refuse = new Set<string>();
let refused = 0;
const closedPort = (() => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
})();
const refusingFetch: typeof fetch = (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  const path = new URL(url).pathname;
  if (refuse.delete(path)) {
    refused++;
    return fetch(url.replace(fake.url, `http://127.0.0.1:${closedPort}`), init);
  }
  return fetch(input, init);
};

const rest = new RestClient({
  baseUrl: fake.url,
  apiKey: fake.apiKey,
  maxRetries: 3,
  initialRetryDelayMs: 2,
  maxRetryDelayMs: 20,
  timeoutMs: TIMEOUT_MS,
  fetch: refusingFetch,
});

// ---- faults ----------------------------------------------------------------------

const FAULT_KINDS = [
  "refused",
  "drop-before-headers",
  "drop-mid-body",
  "stall",
  "408",
  "500",
  "502-html",
  "503",
  "429",
  "invalid-json",
  "truncated-json",
  "cut-body",
  "wrong-content-type",
  "large-garbage",
] as const;
type FaultKind = typeof FAULT_KINDS[number];
/** Faults that replace a 2xx body: only meaningful for reads (a void write reads no body). */
const BODY_FAULTS = new Set<FaultKind>([
  "invalid-json",
  "truncated-json",
  "wrong-content-type",
  "large-garbage",
]);
const LARGE = "x".repeat(2 * 1024 * 1024);

function faultFor(kind: FaultKind, method: string, path: string): Fault | undefined {
  const at = { method, path };
  switch (kind) {
    case "refused":
      refuse.add(path);
      return undefined;
    case "drop-before-headers":
      return { ...at, drop: "before-headers" };
    case "drop-mid-body":
      return { ...at, drop: "mid-body" };
    case "stall":
      return { ...at, delayMs: TIMEOUT_MS * 4 };
    case "408":
      return { ...at, status: 408 };
    case "500":
      return { ...at, status: 500 };
    case "502-html":
      return { ...at, status: 502, headers: { "content-type": "text/html" }, body: "<h1>502</h1>" };
    case "503":
      return { ...at, status: 503, times: 2 };
    case "429":
      return { ...at, status: 429, headers: { "retry-after-ms": "10" }, times: 2 };
    case "invalid-json":
      return { ...at, status: 200, headers: { "content-type": "application/json" }, body: "{nope" };
    case "truncated-json":
      return {
        ...at,
        status: 200,
        headers: { "content-type": "application/json" },
        body: '{"a": [',
      };
    case "cut-body":
      return { ...at, truncate: 25 };
    case "wrong-content-type":
      return {
        ...at,
        status: 200,
        headers: { "content-type": "text/html" },
        body: "<html></html>",
      };
    case "large-garbage":
      return { ...at, status: 200, headers: { "content-type": "application/json" }, body: LARGE };
  }
}

const injected = new Map<FaultKind, number>();
async function maybeFault(method: string, path: string, write: boolean): Promise<void> {
  if (random() >= FAULT_RATE) return;
  let kind = pick(FAULT_KINDS);
  while (write && BODY_FAULTS.has(kind)) kind = pick(FAULT_KINDS);
  injected.set(kind, (injected.get(kind) ?? 0) + 1);
  const fault = faultFor(kind, method, path);
  if (fault) await fake.inject(fault);
}

// ---- the callers -----------------------------------------------------------------------

class WrongData extends Error {}
function expect(condition: unknown, what: string): asserts condition {
  if (!condition) throw new WrongData(what);
}
const ids = (xs: readonly { training_run_id: string }[]) => xs.map((x) => x.training_run_id);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Each caller owns a disjoint slice of the checkpoints, so it can predict their state. */
const owned: FakeCheckpoint[][] = Array.from({ length: CONCURRENCY }, () => []);
state.userCheckpoints()
  .filter((c) => c.checkpoint_type !== "external")
  .forEach((c, i) => owned[i % CONCURRENCY]!.push(c));

function current(c: FakeCheckpoint): FakeCheckpoint | undefined {
  const run = c.tinker_path.slice("tinker://".length).split("/")[0]!;
  return state.checkpoint(run, c.checkpoint_id);
}

const base = (c: FakeCheckpoint) => {
  const [run] = c.tinker_path.slice("tinker://".length).split("/");
  return `/api/v1/training_runs/${run}/checkpoints/${c.checkpoint_id}`;
};

type Call = { name: string; run: () => Promise<void> };

function nextCall(caller: number): Call {
  const mine = owned[caller]!;
  const roll = random();
  if (roll < 0.25) {
    const id = pick(RUNS);
    return {
      name: "getTrainingRun",
      run: async () => {
        await maybeFault("GET", `/api/v1/training_runs/${id}`, false);
        const run = await rest.getTrainingRun(id);
        const want = state.runs.get(id)!;
        expect(run.training_run_id === id && run.base_model === want.base_model, "run fields");
      },
    };
  }
  if (roll < 0.4) {
    const limit = 1 + Math.floor(random() * 10), offset = Math.floor(random() * 30);
    return {
      name: "listTrainingRuns page",
      run: async () => {
        await maybeFault("GET", "/api/v1/training_runs", false);
        const page = await rest.listTrainingRuns({ limit, offset });
        const want = state.listRuns(false);
        expect(same(ids(page.training_runs), ids(want.slice(offset, offset + limit))), "page ids");
        expect(page.cursor.total_count === want.length, "total_count");
      },
    };
  }
  if (roll < 0.47) {
    return {
      name: "listTrainingRuns iteration",
      run: async () => {
        await maybeFault("GET", "/api/v1/training_runs", false);
        const seen: string[] = [];
        for await (const run of rest.listTrainingRuns({ limit: 7 })) seen.push(run.training_run_id);
        expect(same(seen, ids(state.listRuns(false))), "every run exactly once");
      },
    };
  }
  if (roll < 0.55) {
    const id = pick(SESSIONS);
    return {
      name: "getSession",
      run: async () => {
        await maybeFault("GET", `/api/v1/sessions/${id}`, false);
        const session = await rest.getSession(id);
        expect(same(session.training_run_ids, state.sessions.get(id)!.training_run_ids), "runs");
      },
    };
  }
  if (roll < 0.6) {
    const id = pick(SAMPLERS);
    return {
      name: "getSampler",
      run: async () => {
        await maybeFault("GET", `/api/v1/samplers/${id}`, false);
        const sampler = await rest.getSampler(id);
        expect(sampler.base_model === state.samplers.get(id)!.base_model, "sampler");
      },
    };
  }
  if (roll < 0.66) {
    const limit = 1 + Math.floor(random() * 50);
    return {
      name: "listUserCheckpoints page",
      run: async () => {
        await maybeFault("GET", "/api/v1/checkpoints", false);
        const page = await rest.listUserCheckpoints({ limit });
        expect(page.checkpoints.length <= limit, "page size");
        // Other callers delete concurrently: every item must be a checkpoint of ours.
        expect(page.checkpoints.every((c) => c.tinker_path.startsWith("tinker://")), "paths");
      },
    };
  }
  const live = mine.filter((c) => current(c) !== undefined);
  if (live.length === 0) return nextCall(Math.floor(random() * CONCURRENCY));
  const c = pick(live);
  // Keep a quarter of the checkpoints alive so long runs keep writing.
  const mayDelete = live.length > mine.length / 4;
  if (roll < 0.78 || (roll >= 0.92 && !mayDelete)) {
    const ttl = 3600 + Math.floor(random() * 86_400);
    return {
      name: "setCheckpointTtl",
      run: async () => {
        await maybeFault("PUT", `${base(c)}/ttl`, true);
        const before = Date.now();
        await rest.setCheckpointTtlFromTinkerPath(c.tinker_path, ttl);
        const expires = Date.parse(current(c)?.expires_at ?? "");
        expect(expires >= before + ttl * 1000 - 1000, "ttl applied");
      },
    };
  }
  if (roll < 0.92) {
    const publish = !current(c)!.public;
    return {
      name: publish ? "publish" : "unpublish",
      run: async () => {
        await maybeFault(publish ? "POST" : "DELETE", `${base(c)}/publish`, true);
        try {
          if (publish) await rest.publishCheckpointFromTinkerPath(c.tinker_path);
          else await rest.unpublishCheckpointFromTinkerPath(c.tinker_path);
        } catch (error) {
          // Only this caller touches c, so a 409 would mean a silent duplicate.
          if (error instanceof ConflictError) throw new WrongData("409: the write was sent twice");
          throw error;
        }
        expect(current(c)?.public === publish, "publish state");
      },
    };
  }
  return {
    name: "deleteCheckpoint",
    run: async () => {
      await maybeFault("DELETE", base(c), true);
      try {
        await rest.deleteCheckpointFromTinkerPath(c.tinker_path);
      } catch (error) {
        if (error instanceof NotFoundError) throw new WrongData("404: the delete was sent twice");
        throw error;
      }
      expect(current(c) === undefined, "checkpoint deleted");
    },
  };
}

// ---- the run ---------------------------------------------------------------------------

const results = {
  ok: 0,
  typed: new Map<string, number>(),
  untyped: [] as string[],
  wrong: [] as string[],
  hangs: [] as string[],
  byCall: new Map<string, number>(),
};
let issued = 0;
let requests = 0;
// The statuses each write's idempotency key got, in two generations so the
// bookkeeping stays bounded: a key is judged once it is two drains old.
let writeKeys = new Map<string, number[]>();
let olderKeys = new Map<string, number[]>();
let writesTracked = 0;
let duplicates = 0;
/** A write resent after a status that may mean "acted on" (0 = cut or timed out, 2xx, 5xx but 503). */
const judge = (keys: Map<string, number[]>) => {
  for (const statuses of keys.values()) {
    writesTracked++;
    const acted = statuses.slice(0, -1).some((s) =>
      s === 0 || (s >= 200 && s < 300) || (s >= 500 && s !== 503)
    );
    if (acted) duplicates++;
  }
};
const UNSENT = /^(DELETE|POST) .*\/checkpoints\/.*(\/publish)?$/;

/** Folds the fake's log into the counters and clears it (keeps the fake's memory flat). */
function drainLog() {
  for (const r of fake.log) {
    requests++;
    const key = r.headers["x-idempotency-key"];
    if (key && UNSENT.test(`${r.method} ${r.path}`)) {
      const statuses = olderKeys.get(key) ?? writeKeys.get(key) ?? [];
      statuses.push(r.status);
      if (!olderKeys.has(key)) writeKeys.set(key, statuses);
    }
  }
  judge(olderKeys);
  olderKeys = writeKeys;
  writeKeys = new Map();
  fake.log.length = 0;
  fake.storageLog.length = 0;
}

const gc = (globalThis as { gc?: () => void }).gc;
function memory() {
  gc?.();
  const m = Deno.memoryUsage();
  return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 };
}

async function caller(index: number, until: number) {
  while (Date.now() < until) {
    issued++;
    const call = nextCall(index);
    results.byCall.set(call.name, (results.byCall.get(call.name) ?? 0) + 1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"hang">((resolve) => {
      timer = setTimeout(() => resolve("hang"), DEADLINE_MS);
    });
    try {
      const settled = await Promise.race([call.run().then(() => "ok" as const), deadline]);
      if (settled === "hang") results.hangs.push(call.name);
      else results.ok++;
    } catch (error) {
      if (error instanceof WrongData) results.wrong.push(`${call.name}: ${error.message}`);
      else if (error instanceof ApiError) {
        const name = error.constructor.name;
        results.typed.set(name, (results.typed.get(name) ?? 0) + 1);
      } else results.untyped.push(`${call.name}: ${error}`);
    } finally {
      clearTimeout(timer);
    }
    if (issued % 500 === 0) drainLog();
  }
}

// Warm up (bootstrap, JIT), then measure.
for (let i = 0; i < 200; i++) await rest.getTrainingRun(pick(RUNS));
drainLog();
requests = 0;
const samples: Record<"start" | "middle" | "end", ReturnType<typeof memory> | undefined> = {
  start: memory(),
  middle: undefined,
  end: undefined,
};
const started = performance.now();
const middle = setTimeout(() => (samples.middle = memory()), BUDGET_MS / 2);
await Promise.all(
  Array.from({ length: CONCURRENCY }, (_, i) => caller(i, Date.now() + BUDGET_MS)),
);
clearTimeout(middle);
const seconds = (performance.now() - started) / 1000;
drainLog();
samples.end = memory();
samples.middle ??= samples.end;

judge(olderKeys);
judge(writeKeys);

rest.close();
await fake.close();

// ---- summary -----------------------------------------------------------------------------

const fmt = (n: number) => n.toFixed(1);
const typedTotal = [...results.typed.values()].reduce((a, b) => a + b, 0);
const growth = samples.end.heap - samples.start!.heap;
const faults = [...injected.values()].reduce((a, b) => a + b, 0);
const lines = [
  `soak: ${issued} calls in ${fmt(seconds)} s (${Math.round(issued / seconds)} calls/s), ` +
  `${CONCURRENCY} callers, seed ${SEED}, fault rate ${FAULT_RATE}${SHORT ? " (--short)" : ""}`,
  `  calls: ${[...results.byCall].map(([k, v]) => `${k} ${v}`).join(", ")}`,
  `  faults injected: ${faults} (${[...injected].map(([k, v]) => `${k} ${v}`).join(", ")}); ` +
  `connections refused: ${refused}`,
  `  right data: ${results.ok}; typed errors: ${typedTotal} (${
    [...results.typed].map(([k, v]) => `${k} ${v}`).join(", ") || "none"
  })`,
  `  requests received: ${requests}; writes tracked: ${writesTracked}; duplicate writes: ${duplicates}`,
  `  untyped errors: ${results.untyped.length}; hangs: ${results.hangs.length}; wrong data: ${results.wrong.length}`,
  `  memory after GC${gc ? "" : " (no --expose-gc: approximate)"}: rss ${
    fmt(samples.start!.rss)
  } → ` +
  `${fmt(samples.middle.rss)} → ${fmt(samples.end.rss)} MB, heap ${fmt(samples.start!.heap)} → ` +
  `${fmt(samples.middle.heap)} → ${fmt(samples.end.heap)} MB (growth ${fmt(growth)} MB)`,
];
for (const problem of [...results.untyped, ...results.wrong, ...results.hangs].slice(0, 20)) {
  lines.push(`  ! ${problem}`);
}
console.log(lines.join("\n"));

const failed = results.untyped.length > 0 || results.wrong.length > 0 ||
  results.hangs.length > 0 || duplicates > 0 || growth > MAX_HEAP_GROWTH_MB ||
  issued < MIN_CALLS;
if (issued < MIN_CALLS) console.log(`  ! only ${issued} calls (at least ${MIN_CALLS} expected)`);
console.log(failed ? "soak: FAILED" : "soak: ok");
Deno.exit(failed ? 1 : 0);
