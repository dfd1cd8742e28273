/**
 * `deno task bench`: every performance figure of the client as a ratio
 * against its reference, measured on this machine in one run, written to
 * `bench/RESULTS.md` (table, machine, load, date) and `bench/chart.svg`.
 *
 * 1. CLI cold start + one request: the Bun binary, `deno run cli.ts`, the
 *    official Python CLI and `curl` (the floor), wall time and peak RSS.
 * 2. Per-call overhead of `getTrainingRun` against raw `fetch` + `JSON.parse`,
 *    and against the Python SDK (`bench/lib_bench.ts`, `bench/sdk_bench.py`).
 * 3. Walking 10,000 user checkpoints in pages of 100, against the SDK.
 * 4. 100 concurrent calls, against the SDK's `asyncio.gather`.
 * 5. `.result()` against `await` (`bench/result_bench.ts`, the sync futures' bench).
 * 6. A 1 GiB archive download: `tinker checkpoint download` against `curl -o`.
 * 7. Sizes: `mod.ts` bundled and minified for the browser, the compiled binary.
 *
 * The fake server runs in a separate process (Bun). Before measuring, the
 * bench waits (polling every 30 s, up to 15 minutes) for the 1-minute load
 * average to drop below 0.7; `--no-wait` skips that. `--quick` does fewer
 * runs (a smoke test; its RESULTS.md is not for publishing).
 *
 * ```sh
 * deno task bench            # or: deno run -A bench/bench.ts [--no-wait] [--quick]
 * ```
 *
 * @module
 */
import { RestClient } from "../mod.ts";
import { FAKE_IDS } from "../testing/mod.ts";
import { renderChart, renderResults, type Row } from "./_report.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const args = new Set(Deno.args);
const QUICK = args.has("--quick");
const CLI_RUNS = QUICK ? 3 : 15;
const MEM_RUNS = QUICK ? 1 : 3;
const DOWNLOAD_RUNS = QUICK ? 1 : 5;
const ARCHIVE_BYTES = QUICK ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
const LOAD_LIMIT = 0.7;
const API_KEY_ENV = "TINKER_API_KEY";
/** Whether `dropPageCache` could drop the page cache (root only). */
let droppedCaches = false;

const started = performance.now();
const decoder = new TextDecoder();
const say = (line: string) => console.error(`[bench ${elapsed()}] ${line}`);

function elapsed(): string {
  return `${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s`;
}

/** Median of `values`. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function output(cmd: string, cmdArgs: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args: cmdArgs, env, stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${cmdArgs.join(" ")} failed: ${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout).trim();
}

function loadAverage(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

// ---------------------------------------------------------------- the load
const loadBefore = loadAverage();
let loadAtStart = loadBefore;
let waitedS = 0;
if (!args.has("--no-wait")) {
  for (let poll = 0; poll < 30 && loadAtStart >= LOAD_LIMIT; poll++) {
    say(`1-minute load ${loadAtStart.toFixed(2)} >= ${LOAD_LIMIT}: waiting 30 s (${poll + 1}/30)`);
    await new Promise((r) => setTimeout(r, 30_000));
    waitedS += 30;
    loadAtStart = loadAverage();
  }
}
const measureStart = performance.now();

// ---------------------------------------------------------------- tools
const deno = Deno.execPath();
const bun = await output("npx", ["-y", "bun@1.4.5", "-e", "console.log(process.execPath)"]);
const python = `${ROOT}/.venv/bin/python`;
const officialCli = `${ROOT}/.venv/bin/tinker`;
const tmp = await Deno.makeTempDir({ prefix: "tinker-bench-" });
const hasCli = await exists(`${ROOT}/cli.ts`);
const hasResultBench = await exists(`${ROOT}/bench/result_bench.ts`);

/**
 * `deno task compile:bun` split into its `bun build …` flags and the file it
 * compiles (the CLI's entry), so the bench measures the binary users build.
 */
function compileTask(root = ROOT): { flags: string[]; entry: string } {
  const tasks = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).tasks;
  const words = String(tasks["compile:bun"]).split(/\s+/);
  const entry = words.findIndex((word) => word.endsWith(".ts"));
  return { flags: words.slice(words.indexOf("build"), entry), entry: words[entry]! };
}

/**
 * The last commit before issue 15's bootstrap cache. Its Bun binary, built
 * in the same run with that commit's own flags, is what the cold figures must
 * be no worse than (the issue's "no worse than today").
 */
const BEFORE_CACHE = "330133738238a748a4ba8e847c14486ed73cbb32";

/** Compiles the CLI of {@linkcode BEFORE_CACHE} to `out`; false when this checkout lacks the commit. */
async function compileBeforeCache(out: string): Promise<boolean> {
  const has = await new Deno.Command("git", {
    args: ["-C", ROOT, "cat-file", "-e", `${BEFORE_CACHE}^{commit}`],
    stderr: "null",
  }).output();
  if (!has.success) return false;
  const dir = `${tmp}/before-cache`;
  await Deno.mkdir(dir);
  await output("git", ["-C", ROOT, "archive", "-o", `${dir}.tar`, BEFORE_CACHE]);
  await output("tar", ["-xf", `${dir}.tar`, "-C", dir]);
  const { flags, entry } = compileTask(dir);
  await output(bun, [...flags, `${dir}/${entry}`, "--outfile", out]);
  return true;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- fake server
say("starting the fake server (Bun, separate process)");
const server = new Deno.Command(bun, {
  args: [
    "run",
    `${ROOT}/testing/serve.ts`,
    JSON.stringify({ seed: { userCheckpoints: 10_000, bigRunCheckpoints: 250 } }),
    "--exit-on-stdin-close",
  ],
  stdin: "piped",
  stdout: "piped",
  stderr: "null",
}).spawn();
const serverStdin = server.stdin.getWriter();
const serverInfo = await firstLine(server.stdout);
const fake = JSON.parse(serverInfo) as { url: string; apiKey: string; storageUrl: string };

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  for (let i = 0; i < 1000 && !text.includes("\n"); i++) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  reader.releaseLock();
  void stream.cancel().catch(() => {});
  return text.split("\n")[0]!;
}

async function admin(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${fake.url}/_fake/${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`fake admin ${method} ${path}: ${res.status}`);
}
/** The fake logs every request: clear it between figures so it does not grow. */
const clearLog = () => admin("DELETE", "log");

/**
 * The CLI's bootstrap cache lives in a directory of the bench's own
 * (`XDG_CACHE_HOME`); Deno keeps its module cache where it was.
 */
const cacheHome = `${tmp}/cache`;
const cacheFile = `${cacheHome}/tinker-ts/bootstrap.json`;
const denoDir = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache`}/deno`;
const env = {
  PATH: Deno.env.get("PATH") ?? "",
  HOME: Deno.env.get("HOME") ?? "/root",
  XDG_CACHE_HOME: cacheHome,
  DENO_DIR: denoDir,
  [API_KEY_ENV]: fake.apiKey,
  TINKER_BASE_URL: fake.url,
  TINKER_TELEMETRY: "0",
  NO_COLOR: "1",
  COLUMNS: "120",
};
const rows: Row[] = [];
const notes: string[] = [];

try {
  // ---------------------------------------------------------------- 1. CLI
  const binary = `${tmp}/tinker`;
  // The runtime's floor: the same I/O as the CLI with none of its work.
  const floorBinary = `${tmp}/floor`;
  const floorScript = `${ROOT}/bench/_floor.ts`;
  // `cli.ts` runs the bundled CLI; its sources start at `cli/_entry.ts`.
  const cliSources = `${ROOT}/cli/_entry.ts`;
  const hasSources = await exists(cliSources);
  const beforeBinary = `${tmp}/tinker-before-cache`;
  let hasBefore = false;
  if (hasCli) {
    say("compiling the Bun binary, the floor script and the binary before the cache");
    const { flags, entry } = compileTask();
    await output(bun, [...flags, `${ROOT}/${entry}`, "--outfile", binary]);
    await output(bun, [...flags, floorScript, "--outfile", floorBinary]);
    hasBefore = await compileBeforeCache(beforeBinary);
    if (!hasBefore) notes.push(`Commit ${BEFORE_CACHE} is absent: no binary before the cache.`);
  } else {
    notes.push("`cli.ts` is absent: the CLI and download figures use a streamed fetch instead.");
  }
  const bigRun = FAKE_IDS.bigRun;
  // Targets: issue 15 (cache warm); cold, no worse than the binary before the cache.
  const commands: {
    label: string;
    args: string[];
    path: string;
    warmTarget: number;
  }[] = [
    {
      label: "`run list`",
      args: ["run", "list"],
      path: "/api/v1/training_runs?limit=20&offset=0&access_scope=owned",
      warmTarget: 1.15,
    },
    {
      label: "`checkpoint list --run-id` (250 checkpoints)",
      args: ["checkpoint", "list", "--run-id", bigRun],
      path: `/api/v1/training_runs/${bigRun}/checkpoints`,
      warmTarget: 1.3,
    },
  ];
  for (const command of commands) {
    const curl = [
      "curl",
      "-s",
      "-f",
      "-o",
      "/dev/null",
      "-H",
      `X-API-Key: ${fake.apiKey}`,
      `${fake.url}${command.path}`,
    ];
    // "(cold)": the bootstrap cache's file is deleted before each run (outside the timing).
    const programs: [string, string[]][] = [["curl", curl]];
    if (hasCli) {
      programs.push(["Bun binary", [binary, ...command.args]]);
      programs.push(["Bun binary (cold)", [binary, ...command.args]]);
      if (hasBefore) {
        programs.push(["Bun binary before the cache", [beforeBinary, ...command.args]]);
      }
      programs.push(["deno run cli.ts", [deno, "run", "-A", `${ROOT}/cli.ts`, ...command.args]]);
      programs.push([
        "deno run cli.ts (cold)",
        [deno, "run", "-A", `${ROOT}/cli.ts`, ...command.args],
      ]);
      if (hasSources) {
        programs.push(["deno run sources", [deno, "run", "-A", cliSources, ...command.args]]);
        programs.push([
          "deno run sources (cold)",
          [deno, "run", "-A", cliSources, ...command.args],
        ]);
      }
      programs.push(["Bun floor", [floorBinary, "request", command.path]]);
      programs.push(["Bun floor (2)", [floorBinary, "requests", command.path]]);
      programs.push(["Deno floor", [deno, "run", "-A", floorScript, "request", command.path]]);
      programs.push([
        "Deno floor (2)",
        [deno, "run", "-A", floorScript, "requests", command.path],
      ]);
    }
    programs.push(["official CLI", [officialCli, ...command.args]]);
    const wall: Record<string, number> = {};
    const rss: Record<string, number> = {};
    say(`CLI ${command.args.slice(0, 2).join(" ")}: ${programs.map(([name]) => name).join(", ")}`);
    await clearLog();
    const run = async <T = number>(
      name: string,
      argv: string[],
      measure: (argv: string[]) => Promise<T> = timed as (argv: string[]) => Promise<T>,
    ): Promise<T> => {
      if (name.endsWith("(cold)")) await Deno.remove(cacheFile).catch(() => {});
      return await measure(argv);
    };
    for (const [name, argv] of programs) await run(name, argv); // warm-up (Deno's module cache)
    // Every program from the same page-cache state (see dropPageCache), then warm again.
    if (await dropPageCache()) { for (const [name, argv] of programs) await run(name, argv); }
    // Interleaved rounds: drift and noise on the machine hit every program alike.
    const times: Record<string, number[]> = {};
    for (let i = 0; i < CLI_RUNS; i++) {
      for (const [name, argv] of programs) (times[name] ??= []).push(await run(name, argv));
    }
    for (const [name, argv] of programs) {
      const peaks: number[] = [];
      for (let i = 0; i < MEM_RUNS; i++) peaks.push((await run(name, argv, peakRss)).kb);
      wall[name] = median(times[name]!);
      rss[name] = median(peaks) / 1024;
    }
    const group = `CLI ${command.label}`;
    if (hasCli) {
      const vsCurl = (figure: string, name: string, o: { max?: number; targetText?: string }) =>
        rows.push(ratio(group, figure, wall[name]!, wall.curl!, { unit: "ms", ...o }));
      // Each figure, then its floor: the runtime doing the same requests and nothing else.
      vsCurl("Bun binary wall time vs curl, cache warm (one request)", "Bun binary", {
        max: command.warmTarget,
      });
      vsCurl("floor: Bun-compiled script, one request, vs curl", "Bun floor", {});
      vsCurl("Bun binary wall time vs curl, cache cold (two requests)", "Bun binary (cold)", {});
      vsCurl("floor: Bun-compiled script, same two requests, vs curl", "Bun floor (2)", {});
      if (hasBefore) {
        vsCurl(
          "the Bun binary before the cache (two requests) vs curl",
          "Bun binary before the cache",
          {},
        );
        rows.push(beforeCacheRow(group, wall, { max: 1, targetText: "no worse (≤ 1×)" }));
      }
      rows.push(
        ratio(
          group,
          "Bun binary wall time vs official CLI",
          wall["Bun binary"]!,
          wall["official CLI"]!,
          {
            unit: "ms",
            max: 1 / 20,
            targetText: "≥ 20× faster",
          },
        ),
      );
      rows.push(
        ratio(
          group,
          "Bun binary peak RSS vs official CLI",
          rss["Bun binary"]!,
          rss["official CLI"]!,
          {
            unit: "MB",
            max: 0.5,
          },
        ),
      );
      vsCurl("`deno run cli.ts` wall time vs curl, cache warm", "deno run cli.ts", { max: 5 });
      if (hasSources) {
        vsCurl(
          "`deno run cli/_entry.ts` (the sources) vs curl, cache warm",
          "deno run sources",
          {},
        );
      }
      vsCurl("floor: `deno run` script, one request, vs curl", "Deno floor", {});
      vsCurl("`deno run cli.ts` wall time vs curl, cache cold", "deno run cli.ts (cold)", {});
      if (hasSources) {
        vsCurl(
          "`deno run cli/_entry.ts` (the sources) vs curl, cache cold",
          "deno run sources (cold)",
          {},
        );
      }
      vsCurl("floor: `deno run` script, same two requests, vs curl", "Deno floor (2)", {});
      rows.push(
        ratio(
          group,
          "`deno run cli.ts` peak RSS vs official CLI",
          rss["deno run cli.ts"]!,
          rss["official CLI"]!,
          {
            unit: "MB",
          },
        ),
      );
    }
    rows.push(ratio(group, "official CLI wall time vs curl", wall["official CLI"]!, wall.curl!, {
      unit: "ms",
    }));
    notes.push(
      `${group}: median wall ms ${fmtMap(wall)}; median peak RSS MB ${fmtMap(rss)} (curl ${
        rss.curl!.toFixed(1)
      } MB).`,
    );
  }

  // What the cache is for: on a real network the bootstrap is a round trip.
  if (hasCli) {
    const latency = 20;
    const group = `CLI \`run list\`, server answering after ${latency} ms (a distant server)`;
    say(group);
    await admin("POST", "options", { latencyMs: latency });
    const path = commands[0]!.path;
    const curl = ["curl", "-s", "-f", "-o", "/dev/null", "-H", `X-API-Key: ${fake.apiKey}`];
    const slowPrograms: [string, string[]][] = [
      ["curl", [...curl, `${fake.url}${path}`]],
      ["Bun binary", [binary, "run", "list"]],
      ["Bun binary (cold)", [binary, "run", "list"]],
    ];
    if (hasBefore) {
      slowPrograms.push(["Bun binary before the cache", [beforeBinary, "run", "list"]]);
    }
    const times: Record<string, number[]> = {};
    for (let i = 0; i < CLI_RUNS; i++) {
      for (const [name, argv] of slowPrograms) {
        if (name.endsWith("(cold)")) await Deno.remove(cacheFile).catch(() => {});
        (times[name] ??= []).push(await timed(argv));
      }
    }
    await admin("POST", "options", { latencyMs: 0 });
    const slow = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    rows.push(
      ratio(
        group,
        "Bun binary vs curl, cache warm (one request)",
        slow["Bun binary"]!,
        slow.curl!,
        {
          unit: "ms",
        },
      ),
      ratio(
        group,
        "Bun binary vs curl, cache cold (two requests)",
        slow["Bun binary (cold)"]!,
        slow.curl!,
        { unit: "ms" },
      ),
    );
    if (hasBefore) rows.push(beforeCacheRow(group, slow, {}));
    notes.push(`${group}: median wall ms ${fmtMap(slow)}.`);
  }

  notes.push(
    droppedCaches
      ? "CLI: the page cache was dropped before each program's second warm-up run, so every program ran from the same cache state (see Method)."
      : "CLI: the page cache could not be dropped (not root): peak RSS of freshly written files (the compiled binary) is inflated by up to ~5 MB.",
  );

  // ---------------------------------------------------------------- 2-4. library
  const total = await totalUserCheckpoints();
  const libArgs = {
    url: fake.url,
    apiKey: fake.apiKey,
    runId: FAKE_IDS.run,
    pagingItems: total,
    ...(QUICK && { calls: 400, pagingRepeats: 1, concurrencyRepeats: 3 }),
  };
  const lib: Record<string, LibOut> = {};
  for (
    const [name, argv] of [
      ["Deno", [deno, "run", "-A", `${ROOT}/bench/lib_bench.ts`]],
      ["Bun", [bun, "run", `${ROOT}/bench/lib_bench.ts`]],
      ["Python SDK", [python, `${ROOT}/bench/sdk_bench.py`]],
    ] as [string, string[]][]
  ) {
    say(`library figures: ${name}`);
    await clearLog();
    lib[name] = JSON.parse(
      await output(argv[0]!, [...argv.slice(1), JSON.stringify(libArgs)], env),
    );
  }
  // Concurrency again with 50 ms of server latency: not serialised means ≈ 50 ms in all.
  await admin("POST", "options", { latencyMs: 50 });
  const slow: Record<string, LibOut> = {};
  for (
    const [name, argv] of [
      ["Deno", [deno, "run", "-A", `${ROOT}/bench/lib_bench.ts`]],
      ["Bun", [bun, "run", `${ROOT}/bench/lib_bench.ts`]],
      ["Python SDK", [python, `${ROOT}/bench/sdk_bench.py`]],
    ] as [string, string[]][]
  ) {
    say(`100 concurrent calls with 50 ms latency: ${name}`);
    await clearLog();
    const only = { ...libArgs, only: "concurrency", concurrencyRepeats: 3 };
    slow[name] = JSON.parse(await output(argv[0]!, [...argv.slice(1), JSON.stringify(only)], env));
  }
  await admin("POST", "options", { latencyMs: 0 });
  const sdk = lib["Python SDK"]!;
  for (const runtime of ["Deno", "Bun"]) {
    const ours = lib[runtime]!;
    const group = `Library (${runtime})`;
    /** A figure where ours must be ahead of the Python SDK's. */
    const ahead = (figure: string, oursMs: number, sdkMs: number, digits?: number) =>
      ratio(group, figure, oursMs, sdkMs, {
        unit: "ms",
        max: 1,
        targetText: "ahead (< 1)",
        digits,
      });
    rows.push(
      ratio(
        group,
        "`getTrainingRun` per call vs raw fetch + JSON.parse",
        ours.perCall!.oursMeanMs,
        ours.perCall!.rawMeanMs,
        {
          unit: "ms",
          max: 1.1,
          digits: 3,
        },
      ),
    );
    rows.push(
      ahead(
        "`getTrainingRun` per call vs Python SDK",
        ours.perCall!.oursMeanMs,
        sdk.perCall!.meanMs!,
        3,
      ),
      ahead(
        `walk ${ours.paging!.items} user checkpoints (pages of 100) vs Python SDK`,
        ours.paging!.medianMs,
        sdk.paging!.medianMs,
      ),
      ahead(
        "100 concurrent calls vs Python SDK (`asyncio.gather`)",
        ours.concurrency!.medianMs,
        sdk.concurrency!.medianMs,
      ),
    );
    rows.push(
      ratio(
        group,
        "100 concurrent calls, 50 ms server latency, vs one call's 50 ms",
        slow[runtime]!.concurrency!.medianMs,
        50,
        {
          unit: "ms",
          max: 2,
          targetText: "not serialised (< 2)",
        },
      ),
    );
    notes.push(
      `${group}: per call ${fmt(ours.perCall!.oursMeanMs, 3)} ms (raw fetch ${
        fmt(ours.perCall!.rawMeanMs, 3)
      } ms); 100 sequential calls would take ${
        fmt(100 * ours.perCall!.oursMeanMs, 1)
      } ms, 100 concurrent took ${fmt(ours.concurrency!.medianMs, 1)} ms.`,
    );
  }
  notes.push(
    `Python SDK (${sdk.runtime}): per call ${fmt(sdk.perCall!.meanMs!, 3)} ms, paging ${
      fmt(sdk.paging!.medianMs, 0)
    } ms, 100 concurrent ${fmt(sdk.concurrency!.medianMs, 1)} ms, with 50 ms latency ${
      fmt(slow["Python SDK"]!.concurrency!.medianMs, 1)
    } ms.`,
  );

  // ---------------------------------------------------------------- 5. .result()
  if (hasResultBench) {
    for (
      const [name, argv] of [
        ["Deno", [deno, "run", "-A", `${ROOT}/bench/result_bench.ts`]],
        ["Bun", [bun, "run", `${ROOT}/bench/result_bench.ts`]],
      ] as [string, string[]][]
    ) {
      say(`.result() vs await (bench/result_bench.ts): ${name}`);
      const text = await output(argv[0]!, argv.slice(1), env);
      const parsed = parseResultBench(text);
      if (parsed === undefined) {
        notes.push(`bench/result_bench.ts (${name}) printed an unexpected format:\n\n${text}`);
        continue;
      }
      const group = `\`.result()\` (${name}, bench/result_bench.ts)`;
      rows.push(
        ratio(group, "per call: `.result()` vs `await` (median)", parsed.sync, parsed.await, {
          unit: "ms",
          digits: 3,
        }),
      );
      rows.push(
        ratio(
          group,
          "first `.result()` of a client (worker start) vs `await`",
          parsed.cold,
          parsed.await,
          {
            unit: "ms",
            digits: 2,
          },
        ),
      );
    }
  } else {
    notes.push("`bench/result_bench.ts` is absent: no `.result()` figures.");
  }

  // ---------------------------------------------------------------- 6. download
  say(`download of a ${ARCHIVE_BYTES / 1048576} MiB archive`);
  // The archive route (a server without session routes): `curl -o` fetches the same tar. The
  // export flow of weights/ is measured by bench/cli_download_bench.ts (its section below).
  await admin("POST", "options", { archiveBytes: ARCHIVE_BYTES, sessionRoutes: false });
  await clearLog();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const { url: signedUrl } = await rest.getCheckpointArchiveUrlFromTinkerPath(
    FAKE_IDS.checkpointPath,
  );
  rest.close();
  const downloads: Record<string, { s: number; mb: number }> = {};
  let archiveSize = 0;
  const dl: [string, (dir: string) => string[]][] = [
    ["curl -o", (dir) => ["curl", "-s", "-f", "-o", `${dir}/archive.tar`, signedUrl]],
  ];
  if (hasCli) {
    const download = (
      dir: string,
    ) => ["checkpoint", "download", FAKE_IDS.checkpointPath, "-o", dir];
    dl.push(["Bun binary", (dir) => [binary, ...download(dir)]]);
    dl.push(["Bun floor", (dir) => [floorBinary, "download", signedUrl, `${dir}/archive.tar`]]);
    dl.push(["deno run cli.ts", (dir) => [deno, "run", "-A", `${ROOT}/cli.ts`, ...download(dir)]]);
  } else {
    dl.push([
      "Deno streamed fetch",
      (
        dir,
      ) => [deno, "run", "-A", `${ROOT}/bench/_fetch_to_file.ts`, signedUrl, `${dir}/archive.tar`],
    ]);
  }
  // Interleaved (one run of each program per round), so drift hits all alike.
  const secs: Record<string, number[]> = {};
  const peaks: Record<string, number[]> = {};
  for (let i = 0; i < DOWNLOAD_RUNS; i++) {
    for (const [name, argv] of i % 2 === 0 ? dl : [...dl].reverse()) {
      const dir = await Deno.makeTempDir({ dir: tmp, prefix: "dl-" });
      const { ms, kb } = await peakRss(argv(dir));
      if (name === "curl -o") archiveSize = (await Deno.stat(`${dir}/archive.tar`)).size;
      await Deno.remove(dir, { recursive: true });
      (secs[name] ??= []).push(ms / 1000);
      (peaks[name] ??= []).push(kb / 1024);
    }
  }
  for (const [name] of dl) {
    downloads[name] = { s: median(secs[name]!), mb: Math.max(...peaks[name]!) };
  }
  const gib = archiveSize / 1024 ** 3;
  const curlDl = downloads["curl -o"]!;
  for (const name of Object.keys(downloads).filter((n) => n !== "curl -o")) {
    const d = downloads[name]!;
    // The floor (Bun's fetch writing the body to a file, no extraction) is reported only.
    const floor = name === "Bun floor";
    const group = `Download of a ${fmt(archiveSize / 1048576, 0)} MiB archive (${
      floor ? "floor: Bun-compiled script writing the body to a file" : name
    })`;
    rows.push({
      ...ratio(
        group,
        "throughput vs `curl -o`",
        archiveSize / d.s / 1048576,
        archiveSize / curlDl.s / 1048576,
        {
          unit: "MiB/s",
          min: floor ? undefined : 0.9,
          digits: 0,
        },
      ),
      lowerIsBetter: false,
    });
    rows.push({
      group,
      figure: "peak RSS (absolute)",
      ours: `${fmt(d.mb, 1)} MB`,
      reference: `curl ${fmt(curlDl.mb, 1)} MB`,
      ratio: d.mb / 64,
      target: floor ? "(report)" : "< 64 MB",
      met: floor ? undefined : d.mb < 64,
      chartLabel: `${name}: peak RSS / 64 MB`,
      targetRatio: floor ? undefined : 1,
      lowerIsBetter: true,
    });
  }
  notes.push(
    `Download: ${fmt(gib, 2)} GiB tar; median seconds ${
      fmtMap(Object.fromEntries(Object.entries(downloads).map(([k, v]) => [k, v.s])), 2)
    }; the CLI also extracts the tar (same bytes written).`,
  );

  // ---------------------------------------------------------------- 7. sizes
  say("sizes");
  const bundle = await bundleSize([]);
  const noWorker = await bundleSize(["--external", "./_worker_source.ts"]);
  rows.push({
    group: "Size",
    figure: "`mod.ts` bundled + minified (browser), bytes",
    ours: `${kb(bundle.raw)} (gzip ${kb(bundle.gzip)})`,
    reference: "target 25 KB",
    ratio: bundle.raw / 25_000,
    target: "< 25 KB",
    met: bundle.raw < 25_000,
    chartLabel: "bundle / 25 KB",
    targetRatio: 1,
    lowerIsBetter: true,
  });
  rows.push({
    group: "Size",
    figure: "`mod.ts` bundle, gzip bytes",
    ours: kb(bundle.gzip),
    reference: "target 8 KB",
    ratio: bundle.gzip / 8_000,
    target: "< 8 KB",
    met: bundle.gzip < 8_000,
    chartLabel: "bundle gzip / 8 KB",
    targetRatio: 1,
    lowerIsBetter: true,
  });
  notes.push(
    `Bundle without the sync worker's inline source (\`_worker_source.ts\` external): ${
      kb(noWorker.raw)
    } (gzip ${kb(noWorker.gzip)}); the worker source alone is ${
      kb(bundle.raw - noWorker.raw)
    } of the minified bundle.`,
  );
  if (hasCli) {
    const size = (await Deno.stat(binary)).size;
    const hello = `${tmp}/hello.ts`;
    await Deno.writeTextFile(hello, "console.log(1);\n");
    await output(bun, ["build", "--compile", "--minify", hello, "--outfile", `${tmp}/hello`]);
    const runtimeSize = (await Deno.stat(`${tmp}/hello`)).size;
    rows.push({
      group: "Size",
      figure: "compiled Bun binary (`tinker`), bytes",
      ours: `${fmt(size / 1e6, 1)} MB`,
      reference: `Bun runtime alone ${fmt(runtimeSize / 1e6, 1)} MB`,
      ratio: size / runtimeSize,
      target: "(report)",
      met: undefined,
      chartLabel: "binary / Bun runtime alone",
      lowerIsBetter: true,
    });
  }
} finally {
  await serverStdin.close().catch(() => {});
  try {
    server.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await server.status;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

const measureS = (performance.now() - measureStart) / 1000;
const loadAfter = loadAverage();
const machine = await describeMachine();
const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
// Sections that other benches write (between `<!-- section:name -->` markers) are kept.
const kept = (await Deno.readTextFile(`${ROOT}/bench/RESULTS.md`).catch(() => ""))
  .match(/<!-- section:[\w-]+ -->[\s\S]*?<!-- \/section:[\w-]+ -->/g) ?? [];
await Deno.writeTextFile(
  `${ROOT}/bench/RESULTS.md`,
  [
    renderResults({
      rows,
      notes,
      machine,
      date,
      load: {
        before: loadBefore,
        start: loadAtStart,
        after: loadAfter,
        waitedS,
        limit: LOAD_LIMIT,
      },
      seconds: measureS,
      quick: QUICK,
    }),
    ...kept,
  ].join("\n\n"),
);
await Deno.writeTextFile(`${ROOT}/bench/chart.svg`, renderChart(rows, date));
// Keeps `deno fmt --check` clean (it formats Markdown and SVG).
await output(deno, ["fmt", `${ROOT}/bench/RESULTS.md`, `${ROOT}/bench/chart.svg`]);
say(`wrote bench/RESULTS.md and bench/chart.svg (measuring took ${measureS.toFixed(0)} s)`);

// ---------------------------------------------------------------- helpers
interface LibOut {
  runtime: string;
  perCall?: { oursMeanMs: number; rawMeanMs: number; meanMs?: number };
  paging?: { items: number; medianMs: number };
  concurrency?: { medianMs: number };
}

/**
 * Writes dirty pages and drops the page cache (root only), so every
 * program's files are read back from disk. Peak RSS counts the executable's
 * mapped pages, and a file written moments ago (the freshly compiled
 * binary, a new venv, Deno's cache) sits in the cache in large folios that
 * map whole: measured here, the same binary shows 25.8 MB for `version` as
 * an old file and 30.9 MB as a fresh copy, 25.4–25.7 MB for both after a
 * drop. Returns whether it was done (noted in RESULTS.md).
 */
async function dropPageCache(): Promise<boolean> {
  try {
    await new Deno.Command("sync").output();
    await Deno.writeTextFile("/proc/sys/vm/drop_caches", "1");
    droppedCaches = true;
    return true;
  } catch {
    return false;
  }
}

/** The Bun binary with the cache cold against the binary before the cache, from one run's medians. */
function beforeCacheRow(
  group: string,
  wall: Record<string, number>,
  target: { max?: number; targetText?: string },
): Row {
  return ratio(
    group,
    "Bun binary, cache cold, vs the binary before the cache (same run)",
    wall["Bun binary (cold)"]!,
    wall["Bun binary before the cache"]!,
    { unit: "ms", ...target },
  );
}

async function timed(argv: string[]): Promise<number> {
  const t = performance.now();
  const status = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  const ms = performance.now() - t;
  if (!status.success) throw new Error(`${argv.join(" ")} exited ${status.code}`);
  return ms;
}

/** Runs `argv` under `/usr/bin/time`: wall time (measured here) and peak RSS in kB. */
async function peakRss(argv: string[]): Promise<{ ms: number; kb: number }> {
  const report = `${tmp}/time-${crypto.randomUUID()}.txt`;
  const t = performance.now();
  const status = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", "-o", report, ...argv],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t;
  if (!status.success) {
    throw new Error(`${argv.join(" ")} exited ${status.code}: ${decoder.decode(status.stderr)}`);
  }
  const text = await Deno.readTextFile(report);
  await Deno.remove(report);
  return { ms, kb: Number(text.trim().split("\n").at(-1)) };
}

async function totalUserCheckpoints(): Promise<number> {
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const page = await rest.listUserCheckpoints({ limit: 1 });
  rest.close();
  return page.cursor?.total_count ?? 0;
}

async function bundleSize(extra: string[]): Promise<{ raw: number; gzip: number }> {
  const file = `${tmp}/bundle-${crypto.randomUUID()}.js`;
  await output(bun, [
    "build",
    `${ROOT}/mod.ts`,
    "--minify",
    "--target=browser",
    "--outfile",
    file,
    ...extra,
  ]);
  const bytes = await Deno.readFile(file);
  const gz = await new Response(
    new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")),
  ).arrayBuffer();
  return { raw: bytes.length, gzip: gz.byteLength };
}

/** `.result()`, `await` and cold-start medians from result_bench.ts's text. */
function parseResultBench(
  text: string,
): { sync: number; await: number; cold: number } | undefined {
  const sync = /^\.result\(\)\s+([\d.]+)/m.exec(text);
  const viaAwait = /^await\s+([\d.]+)/m.exec(text);
  const cold = /cold worker\).*?median\s+([\d.]+)/m.exec(text);
  if (!sync || !viaAwait || !cold) return undefined;
  return { sync: Number(sync[1]), await: Number(viaAwait[1]), cold: Number(cold[1]) };
}

function ratio(
  group: string,
  figure: string,
  ours: number,
  reference: number,
  o: { unit: string; max?: number; min?: number; targetText?: string; digits?: number },
): Row {
  const r = ours / reference;
  const digits = o.digits ?? 1;
  const target = o.targetText ??
    (o.max !== undefined ? `≤ ${o.max}×` : o.min !== undefined ? `≥ ${o.min}×` : "(report)");
  return {
    group,
    figure,
    ours: `${fmt(ours, digits)} ${o.unit}`,
    reference: `${fmt(reference, digits)} ${o.unit}`,
    ratio: r,
    target,
    met: o.max !== undefined ? r <= o.max : o.min !== undefined ? r >= o.min : undefined,
    chartLabel: `${group.replace(/`/g, "")}: ${figure.replace(/`/g, "")}`,
    targetRatio: o.max ?? o.min,
    lowerIsBetter: o.min === undefined,
  };
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function fmtMap(values: Record<string, number>, digits = 1): string {
  return Object.entries(values).map(([k, v]) => `${k} ${fmt(v, digits)}`).join(", ");
}

function kb(bytes: number): string {
  return `${fmt(bytes / 1000, 1)} KB`;
}

async function describeMachine(): Promise<string[]> {
  const lscpu = await output("lscpu", []).catch(() => "");
  const field = (name: string) =>
    new RegExp(`^${name}:\\s*(.+)$`, "m").exec(lscpu)?.[1]?.trim() ?? "?";
  const mem = (await output("free", ["-h"]).catch(() => "")).split("\n")[1]?.split(/\s+/)[1];
  const nproc = await output("nproc", []).catch(() => "?");
  const curlVersion = (await output("curl", ["--version"])).split("\n")[0]!.split(" ").slice(0, 2)
    .join(" ");
  const py = await output(python, [
    "-c",
    "import sys,tinker;print(sys.version.split()[0],tinker.__version__)",
  ]);
  const [pyVersion, sdkVersion] = py.split(" ");
  return [
    `CPU: ${field("Model name")}, ${nproc} cores (\`nproc\`), ${field("Hypervisor vendor")} guest`,
    `Memory: ${mem} (\`free -h\`)`,
    `OS: ${Deno.build.os} ${Deno.build.arch}, kernel ${
      (await Deno.readTextFile("/proc/sys/kernel/osrelease")).trim()
    }`,
    `Runtimes: Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), Bun ${await output(bun, [
      "--version",
    ])}, Python ${pyVersion} with tinker ${sdkVersion}, ${curlVersion}`,
    `Fake server: \`testing/serve.ts\` under Bun, a separate process on 127.0.0.1`,
  ];
}
