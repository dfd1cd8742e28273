// The whole test suite, as `deno task test` runs it (and CI after its checks):
// every stage runs even when an earlier one fails, its pass/fail counts are
// read from the runner's own summary line, and the last line is the total.
//
//   deno task test            all stages
//   deno task test deno bun   only the named stages

const DENO = ["npx", "-y", "deno@2.9.6"];
const BUN = ["npx", "-y", "bun@1.4.5"];
const PYTHON = ".venv/bin/python";
const SDK = "tinker==0.38.0";
const COVERAGE_MIN = 90;
/** TuFT (a self-hosted Tinker-compatible server) for the interop stage, in its own venv. */
const TUFT = "tuft==0.2.2";
const TUFT_VENV = ".venv-tuft";
const TUFT_REQUIREMENTS = "tests/interop/requirements.txt";

interface Stage {
  name: string;
  about: string;
  run(): Promise<Counts>;
}

interface Counts {
  passed: number;
  failed: number;
  /** Why the stage did not run (printed in the summary). */
  skipped?: string;
}

const root = new URL("../", import.meta.url).pathname;

/** Runs a command in the repo root, echoing its output; returns the output and exit code. */
async function sh(
  cmd: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; text: string }> {
  console.log(`\n$ ${cmd.join(" ")}`);
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd: root,
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      text += new TextDecoder().decode(chunk);
      await out.write(chunk);
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  const { code } = await child.status;
  return { code, text };
}

/** Counts from Deno's summary line `ok | 48 passed (68 steps) | 0 failed`. */
function denoCounts(text: string, code: number): Counts {
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
  const lines = [...plain.matchAll(/^(?:ok|FAILED) \| (\d+) passed.*?\| (\d+) failed/gm)];
  if (lines.length === 0) return { passed: 0, failed: 1 };
  const counts = lines.reduce(
    (sum, m) => ({ passed: sum.passed + Number(m[1]), failed: sum.failed + Number(m[2]) }),
    { passed: 0, failed: 0 },
  );
  // A crash after the summary (e.g. a leaked resource) still fails the stage.
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

async function ensureVenv(): Promise<boolean> {
  try {
    await Deno.stat(`${root}${PYTHON}`);
    const { code } = await sh([PYTHON, "-c", "import tinker"]);
    if (code === 0) return true;
  } catch {
    // Not there yet.
  }
  const made = await sh(["python3", "-m", "venv", ".venv"]);
  if (made.code !== 0) return false;
  const installed = await sh([PYTHON, "-m", "pip", "install", "-q", SDK]);
  return installed.code === 0;
}

/**
 * Installs TuFT and its pinned light dependencies into .venv-tuft (reused
 * when the pinned versions are there). Returns why not when pip fails.
 */
async function ensureTuftVenv(): Promise<string | undefined> {
  const python = `${TUFT_VENV}/bin/python`;
  const pinned = "from importlib.metadata import version as v; " +
    "assert (v('tuft'), v('tinker')) == ('0.2.2', '0.25.0')";
  try {
    await Deno.stat(`${root}${python}`);
    if ((await sh([python, "-c", pinned])).code === 0) return undefined;
  } catch {
    // Not there yet.
  }
  const made = await sh(["python3", "-m", "venv", TUFT_VENV]);
  if (made.code !== 0) return `python3 -m venv ${TUFT_VENV} exited ${made.code}`;
  const steps = [
    [python, "-m", "pip", "install", "-q", "--no-deps", TUFT],
    [python, "-m", "pip", "install", "-q", "--no-deps", "-r", TUFT_REQUIREMENTS],
  ];
  for (const step of steps) {
    const { code } = await sh(step);
    if (code !== 0) {
      return `pip could not install TuFT (\`${step.slice(1).join(" ")}\` exited ${code})`;
    }
  }
  return undefined;
}

/** Counts of a Deno run whose one test has steps: the steps, as `ok | 1 passed (13 steps)`. */
function stepCounts(text: string, code: number): Counts {
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
  const m =
    /^(?:ok|FAILED) \| \d+ passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/m
      .exec(plain);
  if (!m) return denoCounts(text, code);
  const counts = { passed: Number(m[1] ?? 0), failed: Number(m[3] ?? m[2]) };
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

const STAGES: Stage[] = [
  {
    name: "deno",
    about: "unit, end-to-end and doc tests under Deno, with coverage",
    async run() {
      // The differential CLI test compares against the official CLI in .venv.
      if (!(await ensureVenv())) console.error("Could not install the official Python SDK");
      await Deno.remove(`${root}coverage`, { recursive: true }).catch(() => {});
      const { code, text } = await sh([
        ...DENO,
        "test",
        "-A",
        "--doc",
        "--parallel",
        "--coverage=coverage",
      ]);
      const counts = denoCounts(text, code);
      const report = await sh([
        ...DENO,
        "coverage",
        "coverage",
        "--exclude=/testing/|/conformance/|/cli\\.ts$|/cli\\.bundle\\.js$|/cli/|_test\\.ts$|/tests/|/scripts/|/bench/|_worker_source\\.ts$",
      ]);
      // deno-lint-ignore no-control-regex
      const plain = report.text.replace(/\x1b\[[0-9;]*m/g, "");
      // Columns: Branch %, Function %, Line %.
      const all = /^\|\s*All files\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)/m.exec(plain);
      const lines = all ? Number(all[3]) : 0;
      console.log(`\nLibrary line coverage: ${lines}% (minimum ${COVERAGE_MIN}%)`);
      if (lines < COVERAGE_MIN) counts.failed++;
      return counts;
    },
  },
  {
    name: "bun",
    about: "the library's end-to-end and .result() tests under Bun (and a compiled binary)",
    async run() {
      const files = [
        "tinker_path_test.ts",
        "rest_client_test.ts",
        "service_client_test.ts",
        "sampling_client_test.ts",
        "tests/hostile_lib_test.ts",
        "download_test.ts", // downloadCheckpoint: files through node:fs in Bun
        // The training types and the protobuf wire (SDK byte comparisons included).
        "internal/_proto_test.ts",
        "internal/_proto_messages_test.ts",
        "internal/_fwdbwd_chunks_test.ts",
        "model_input_test.ts",
        "tensor_data_test.ts",
        "openai_client_test.ts",
        "internal/_sse_test.ts",
        // TrainingClient against the fake's bigram model.
        "training_client_test.ts",
        "testing/bigram_test.ts",
        "testing/oai_test.ts", // the OpenAI-compatible answers from that model
      ];
      const e2e = await sh([...BUN, "run", "tests/bun_runner.ts", ...files]);
      const sync = await sh([...BUN, "run", "tests/sync_bun.ts"]);
      const creds = await sh([...BUN, "run", "tests/credentials_runtimes.ts"]);
      return [e2e, sync, creds].map((r) => denoCounts(r.text, r.code)).reduce((a, b) => ({
        passed: a.passed + b.passed,
        failed: a.failed + b.failed,
      }));
    },
  },
  {
    name: "node",
    about: "the library under Node: bundled by Bun, and the npm build in a Node 20 project",
    async run() {
      const out = `${Deno.makeTempDirSync()}/node_smoke.mjs`;
      const built = await sh([
        ...BUN,
        "build",
        "tests/node_smoke.ts",
        "--target=node",
        `--outfile=${out}`,
      ]);
      const smoke = built.code === 0
        ? await sh(["node", out]).then(({ code, text }) => denoCounts(text, code))
        : { passed: 0, failed: 1 };
      const creds = out.replace(/node_smoke\.mjs$/, "credentials_runtimes.mjs");
      const builtCreds = await sh([
        ...BUN,
        "build",
        "tests/credentials_runtimes.ts",
        "--target=node",
        `--outfile=${creds}`,
      ]);
      const credentials = builtCreds.code === 0
        ? await sh(["node", creds]).then(({ code, text }) => denoCounts(text, code))
        : { passed: 0, failed: 1 };
      // The npm build (deno task build:npm) in a Node project: JS, TS and a bundle.
      const npm = await sh([...DENO, "run", "-A", "tests/node/run.ts"]);
      const consumer = denoCounts(npm.text, npm.code);
      return [smoke, credentials, consumer].reduce((sum, c) => ({
        passed: sum.passed + c.passed,
        failed: sum.failed + c.failed,
      }));
    },
  },
  {
    name: "conformance",
    about: "request-by-request comparison with the official Python SDK 0.38.0",
    async run() {
      if (!(await ensureVenv())) return { passed: 0, failed: 1 };
      const { code, text } = await sh([...DENO, "run", "-A", "conformance/run.ts"]);
      const m = /^(\d+) passed, (\d+) failed$/m.exec(text);
      if (!m) return { passed: 0, failed: 1 };
      const counts = { passed: Number(m[1]), failed: Number(m[2]) };
      if (code !== 0 && counts.failed === 0) counts.failed = 1;
      return counts;
    },
  },
  {
    name: "binary",
    about:
      "the CLI suite against the `bun build --compile` binary and `deno run cli.ts` (the bundle)",
    async run() {
      const built = await sh([...DENO, "task", "compile:bun"]);
      if (built.code !== 0) return { passed: 0, failed: 1 };
      const { code, text } = await sh([...DENO, "test", "-A", "tests/cli_test.ts"], {
        TINKER_CLI_BIN: `${root}tinker`,
      });
      // The hostile-server attacks that go through the CLI (a resent delete was Bun's).
      const hostile = await sh(
        [...DENO, "test", "-A", "--filter", "CLI", "tests/hostile_lib_test.ts"],
        { TINKER_CLI_BIN: `${root}tinker` },
      );
      // The published entry as a program: `cli.ts` runs the bundle (the other stages run sources).
      const bundled = await sh([...DENO, "test", "-A", "tests/cli_test.ts"], {
        TINKER_CLI_BIN: `${Deno.execPath()} run -A ${root}cli.ts`,
      });
      const counts = [denoCounts(text, code), denoCounts(hostile.text, hostile.code)];
      counts.push(denoCounts(bundled.text, bundled.code));
      return {
        passed: counts.reduce((sum, c) => sum + c.passed, 0),
        failed: counts.reduce((sum, c) => sum + c.failed, 0),
      };
    },
  },
  {
    name: "interop",
    about: "the client and CLI against TuFT, a self-hosted Tinker-compatible server",
    async run() {
      const why = await ensureTuftVenv();
      if (why) {
        console.log(`interop: SKIPPED — TuFT cannot be installed here: ${why}`);
        return { passed: 0, failed: 0, skipped: why };
      }
      if (!(await ensureVenv())) console.error("Could not install the official Python SDK 0.38");
      const { code, text } = await sh([...DENO, "test", "-A", "tests/interop/tuft_test.ts"], {
        TINKER_INTEROP_TUFT_VENV: `${root}${TUFT_VENV}`,
      });
      return stepCounts(text, code);
    },
  },
  {
    name: "soak",
    about: "the short soak: mixed calls with injected faults at 50 concurrent callers",
    async run() {
      const { code } = await sh([...DENO, "task", "soak", "--short"]);
      return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
    },
  },
];

const only = Deno.args;
const totals: Counts = { passed: 0, failed: 0 };
const summary: string[] = [];
for (const stage of STAGES) {
  if (only.length > 0 && !only.includes(stage.name)) continue;
  console.log(`\n=== ${stage.name}: ${stage.about} ===`);
  let counts: Counts;
  try {
    counts = await stage.run();
  } catch (error) {
    console.error(`Stage ${stage.name} crashed: ${error}`);
    counts = { passed: 0, failed: 1 };
  }
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  const note = counts.skipped ? ` (skipped: ${counts.skipped})` : "";
  summary.push(`${stage.name.padEnd(12)} ${counts.passed} passed, ${counts.failed} failed${note}`);
}
console.log(`\n=== summary ===\n${summary.join("\n")}`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
Deno.exit(totals.failed === 0 ? 0 : 1);
