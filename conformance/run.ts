/**
 * Wire conformance against the official Python SDK (`tinker==0.38.0` in
 * `.venv`): every scenario runs once through the SDK (`driver.py`) and once
 * through our client, each against a fresh fake server that records the
 * requests; then requests, results and errors are compared. Differences
 * listed in `deliberate.ts` are accepted; any other fails the scenario.
 *
 *   deno task conformance [--verbose | --all] [--only <text>] [--concurrency <n>]
 *
 * `--verbose` lists every failing and non-routine accepted difference; `--all`
 * also the routine ones (headers).
 *
 * Prints a table (scenario, result, first difference) and the last line
 * `N passed, M failed`; exits 1 on any failure.
 *
 * @module
 */
import { AdminClient, RestClient, ServiceClient } from "../mod.ts";
import { type FakeTinker, startFakeTinker } from "../testing/mod.ts";
import {
  type Difference,
  diffOutcomes,
  diffRequests,
  type Origins,
  type Outcome,
  outcomeOf,
  splitLog,
  type WireRequest,
} from "./compare.ts";
import { DELIBERATE, type Deliberate, type ScenarioFacts } from "./deliberate.ts";
import { type Clients, type Contract, type Scenario, SCENARIOS } from "./scenarios.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const PYTHON = `${ROOT}.venv/bin/python`;
const DRIVER = `${ROOT}conformance/driver.py`;
const SDK_VERSION = "0.38.0";
const SCENARIO_TIMEOUT_MS = 90_000;

/** The verdict on one scenario. */
export interface Report {
  name: string;
  failures: Difference[];
  accepted: { difference: Difference; rule: Deliberate }[];
  contract: boolean;
  /** For canaries: the difference kinds that must be reported. */
  canary?: Difference["kind"][];
  ms: number;
  crash?: string;
}

/** Checks `.venv` holds the SDK; returns a message saying what is wrong, or undefined. */
async function checkVenv(): Promise<string | undefined> {
  try {
    await Deno.stat(PYTHON);
  } catch {
    return `conformance: ${PYTHON} is missing. Create the venv with the official SDK first:\n` +
      `  python3 -m venv .venv && .venv/bin/pip install tinker==${SDK_VERSION}`;
  }
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", "import tinker; print(tinker.__version__)"],
    env: pythonEnv("/tmp"),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const version = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0 || version !== SDK_VERSION) {
    return `conformance: .venv must hold tinker==${SDK_VERSION}, found ${
      out.code === 0 ? version : "no importable tinker"
    }.\n  .venv/bin/pip install tinker==${SDK_VERSION}`;
  }
  return undefined;
}

/**
 * A clean environment: no TINKER_* variables, proxies or stored credentials
 * leak in. Telemetry is off: its requests are not compared (deliberate.ts),
 * and a call failing with `@capture_exceptions(fatal=True)` waits up to ~10 s
 * for the telemetry flush.
 */
function pythonEnv(home: string): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: home,
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONIOENCODING: "utf-8",
    TINKER_TELEMETRY: "0",
  };
}

/** Runs the scenario's steps through the SDK against `fake`. */
async function runSdk(
  scenario: Scenario,
  fake: FakeTinker,
  apiKey: string,
  home: string,
): Promise<Outcome[]> {
  const child = new Deno.Command(PYTHON, {
    args: [DRIVER, fake.url, apiKey],
    env: { ...pythonEnv(home), ...scenario.env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), SCENARIO_TIMEOUT_MS);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify({ steps: scenario.steps.map((s) => s.py) })),
    );
    await writer.close();
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout);
    if (out.code !== 0) {
      throw new Error(
        `driver.py exited ${out.code}: ${new TextDecoder().decode(out.stderr).slice(-800)}`,
      );
    }
    return (JSON.parse(text) as { results: Outcome[] }).results;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the scenario's steps through our client against `fake`. */
async function runOurs(scenario: Scenario, fake: FakeTinker, apiKey: string): Promise<Outcome[]> {
  const options = {
    baseUrl: fake.url,
    apiKey,
    ...(scenario.env && { env: scenario.env }),
    ...scenario.client,
  };
  let rest: RestClient | undefined, admin: AdminClient | undefined;
  let service: ServiceClient | undefined;
  const clients: Clients = {
    get rest() {
      return rest ??= new RestClient(options);
    },
    get admin() {
      return admin ??= new AdminClient(options);
    },
    get service() {
      return service ??= new ServiceClient(options);
    },
    saved: new Map(),
  };
  try {
    const out: Outcome[] = [];
    for (const step of scenario.steps) out.push(await outcomeOf(() => step.ts(clients)));
    return out;
  } finally {
    rest?.close();
    admin?.close();
  }
}

/** Compares our requests with the 0.25 contract: method, raw path and the listed headers. */
function diffContract(ours: readonly WireRequest[], contract: Contract): Difference[] {
  const out: Difference[] = [];
  if (ours.length !== contract.requests.length) {
    out.push({
      kind: "request-count",
      where: "call",
      ours: ours.map((r) => `${r.method} ${r.rawPath}`),
      theirs: contract.requests.map((r) => `${r.method} ${r.rawPath}`),
    });
  }
  contract.requests.forEach((want, i) => {
    const got = ours[i];
    if (!got) return;
    const where = `call ${i + 1} (0.25 contract)`;
    if (got.method !== want.method) {
      out.push({ kind: "method", where, ours: got.method, theirs: want.method });
    }
    if (got.rawPath !== want.rawPath) {
      out.push({ kind: "path", where, ours: got.rawPath, theirs: want.rawPath });
    }
    if (got.body !== "") out.push({ kind: "body", where, ours: got.body, theirs: "" });
    for (const [name, value] of Object.entries(want.headers)) {
      if ((got.headers[name] ?? null) !== value) {
        out.push({
          kind: "header",
          where,
          name,
          ours: got.headers[name],
          theirs: value ?? undefined,
        });
      }
    }
  });
  return out;
}

const originsOf = (fake: FakeTinker): Origins => ({ api: fake.url, storage: fake.storageUrl });

async function startFake(scenario: Scenario): Promise<{ fake: FakeTinker; key: string }> {
  const fake = await startFakeTinker(scenario.fake);
  const key = typeof scenario.apiKey === "function"
    ? await scenario.apiKey(fake)
    : scenario.apiKey ?? fake.apiKey;
  await scenario.prepare?.(fake);
  return { fake, key };
}

/** Runs one scenario both ways and judges the differences. */
export async function runScenario(scenario: Scenario, home: string): Promise<Report> {
  const started = Date.now();
  const report: Report = {
    name: scenario.name,
    failures: [],
    accepted: [],
    contract: scenario.contract !== undefined,
    canary: scenario.canary,
    ms: 0,
  };
  const fakes: FakeTinker[] = [];
  try {
    const mineFake = await startFake(scenario);
    const ours = mineFake.fake;
    fakes.push(ours);
    const sdkFake = scenario.contract ? undefined : await startFake(scenario);
    const theirs = sdkFake?.fake;
    if (theirs) fakes.push(theirs);
    const [ourResults, theirResults] = await Promise.all([
      runOurs(scenario, ours, mineFake.key),
      sdkFake ? runSdk(scenario, sdkFake.fake, sdkFake.key, home) : undefined,
    ]);
    const mine = splitLog(ours.log);
    const differences: Difference[] = [];
    let theirCalls: number;
    if (scenario.contract) {
      const contract = scenario.contract;
      theirCalls = contract.requests.length;
      differences.push(...bootstrapDiffs(mine.bootstrap, null));
      differences.push(...diffContract(mine.calls, contract));
      differences.push(
        ...diffOutcomes(ourResults[0]!, { ok: contract.result }, "step 1", {
          ours: originsOf(ours),
          theirs: originsOf(ours),
        }),
      );
    } else {
      const sdk = splitLog(theirs!.log);
      theirCalls = sdk.calls.length;
      differences.push(...bootstrapDiffs(mine.bootstrap, sdk.bootstrap));
      differences.push(...diffRequests(mine.calls, sdk.calls));
      scenario.steps.forEach((_, i) => {
        differences.push(
          ...diffOutcomes(ourResults[i]!, theirResults![i]!, `step ${i + 1}`, {
            ours: originsOf(ours),
            theirs: originsOf(theirs!),
          }),
        );
      });
    }
    const facts: ScenarioFacts = {
      tags: scenario.tags ?? [],
      ourCalls: mine.calls.length,
      theirCalls,
    };
    for (const difference of differences) {
      const rule = DELIBERATE.find((r) => r.matches(difference, facts));
      if (rule) report.accepted.push({ difference, rule });
      else report.failures.push(difference);
    }
  } catch (error) {
    report.crash = error instanceof Error ? error.message : String(error);
  } finally {
    await Promise.all(fakes.map((f) => f.close()));
    report.ms = Date.now() - started;
  }
  return report;
}

/**
 * The bootstrap must be the same requests (config, then the JWT exchange when
 * enabled), compared like calls; `theirs` null means "the 0.25 contract":
 * one config request with the key.
 */
function bootstrapDiffs(ours: WireRequest[], theirs: WireRequest[] | null): Difference[] {
  const paths = (list: WireRequest[]) => list.map((r) => `${r.method} ${r.rawPath}`);
  if (theirs === null) {
    const want = ["POST /api/v1/client/config"];
    return paths(ours).join() === want.join()
      ? []
      : [{ kind: "bootstrap", where: "bootstrap", ours: paths(ours), theirs: want }];
  }
  if (paths(ours).join() !== paths(theirs).join()) {
    return [{ kind: "bootstrap", where: "bootstrap", ours: paths(ours), theirs: paths(theirs) }];
  }
  return diffRequests(ours, theirs, "bootstrap");
}

// ---- output ------------------------------------------------------------------

function short(value: unknown, max = 60): string {
  const text = value === undefined
    ? "<absent>"
    : typeof value === "string"
    ? value
    : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function describe(d: Difference): string {
  const what = d.kind === "header" ? `header ${d.name}` : d.kind;
  return `${what} @ ${d.where}: ours ${short(d.ours)} | sdk ${short(d.theirs)}`;
}

function verdict(r: Report): string {
  if (r.crash !== undefined) return "FAIL";
  if (r.canary) {
    const seen = new Set(r.failures.map((d) => d.kind));
    return r.canary.every((kind) => seen.has(kind)) ? "pass (canary caught)" : "FAIL";
  }
  if (r.failures.length > 0) return "FAIL";
  return r.contract ? "pass (0.25 contract)" : "pass";
}

function note(r: Report): string {
  if (r.crash !== undefined) return `crashed: ${short(r.crash, 200)}`;
  if (r.canary) {
    const kinds = [...new Set(r.failures.map((d) => d.kind))].join(", ");
    return `expected ${r.canary.join(", ")}; reported: ${kinds || "nothing"}`;
  }
  if (r.failures.length > 0) {
    const more = r.failures.length > 1 ? ` (+${r.failures.length - 1} more)` : "";
    return describe(r.failures[0]!) + more;
  }
  const ids = [...new Set(r.accepted.map((a) => a.rule.id))].filter((id) => !ROUTINE.has(id));
  return ids.length > 0 ? `deliberate: ${ids.join(", ")}` : "";
}

/** Rules that apply to nearly every scenario; named once in the legend instead of on every row. */
const ROUTINE = new Set([
  "user-agent",
  "stainless-headers",
  "sdk-method-headers",
  "transport-headers",
  "idempotency-key-prefix",
]);

async function main(): Promise<number> {
  const args = [...Deno.args];
  const flag = (name: string) => {
    const at = args.indexOf(name);
    return at < 0 ? undefined : args.splice(at, 2)[1];
  };
  const all = args.includes("--all");
  const verbose = all || args.includes("--verbose");
  const only = flag("--only");
  const concurrency = Number(flag("--concurrency") ?? 6);
  const problem = await checkVenv();
  if (problem) {
    console.error(problem);
    console.log("0 passed, 1 failed");
    return 1;
  }
  for (const name of Object.keys(Deno.env.toObject())) {
    if (name.startsWith("TINKER_")) Deno.env.delete(name); // Our client reads them too.
  }
  const scenarios = SCENARIOS.filter((s) => only === undefined || s.name.includes(only));
  const home = await Deno.makeTempDir({ prefix: "tinker-conformance-" });
  const started = Date.now();
  const reports: Report[] = new Array(scenarios.length);
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length) {
      const at = next++;
      reports[at] = await runScenario(scenarios[at]!, home);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
  const width = Math.max(...scenarios.map((s) => s.name.length), 8);
  console.log(`${"scenario".padEnd(width)}  ${"result".padEnd(20)}  first difference / notes`);
  console.log(`${"-".repeat(width)}  ${"-".repeat(20)}  ${"-".repeat(40)}`);
  for (const r of reports) {
    const time = verbose ? ` [${(r.ms / 1000).toFixed(1)} s]` : "";
    console.log(`${r.name.padEnd(width)}  ${verdict(r).padEnd(20)}  ${note(r)}${time}`);
    if (verbose) {
      for (const d of r.failures) console.log(`    FAIL      ${describe(d)}`);
      for (const a of r.accepted) {
        if (all || !ROUTINE.has(a.rule.id)) {
          console.log(`    accepted  [${a.rule.id}] ${describe(a.difference)}`);
        }
      }
    }
  }
  const used = new Set(reports.flatMap((r) => r.accepted.map((a) => a.rule.id)));
  console.log(
    `\nDeliberate differences accepted on every row as needed: ${
      [...ROUTINE].filter((id) => used.has(id)).join(", ")
    } (see conformance/deliberate.ts).`,
  );
  const failed = reports.filter((r) => verdict(r) === "FAIL").length;
  console.log(
    `Ran ${reports.length} scenarios in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
  );
  console.log(`${reports.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
