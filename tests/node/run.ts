// The Node 20 consumer test: builds the npm package (`deno task build:npm`),
// installs it into a copy of this project as the README's Node section says
// (`npm install <path to dist/npm>`), then runs, under the machine's `node`:
//   js_check.mjs      plain JavaScript
//   ts_check.ts       compiled by stock tsc (strict, NodeNext) first
//   bundle_check.mjs  bundled into one file by Bun first (spawnFakeTinker from a bundle)
// Prints a summary line `ok | N passed | M failed`; exits non-zero on failure.
//
//   npx -y deno@2.9.6 run -A tests/node/run.ts [--no-build]

const DENO = ["npx", "-y", "deno@2.9.6"];
const BUN = ["npx", "-y", "bun@1.4.5"];
const here = new URL("./", import.meta.url).pathname;
const root = new URL("../../", import.meta.url).pathname;

async function sh(
  cmd: string[],
  cwd: string,
): Promise<{ code: number; text: string }> {
  console.log(`$ ${cmd.join(" ")}`);
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd,
    stdin: "null",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  console.log(text.trimEnd());
  return { code: out.code, text };
}

/** Passed/failed counts from node:test's TAP summary (`# pass 4`, `# fail 0`). */
function nodeCounts(
  text: string,
  code: number,
): { passed: number; failed: number } {
  const passed = Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
  let failed = Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 1);
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

let passed = 0;
let failed = 0;
const record = (name: string, counts: { passed: number; failed: number }) => {
  passed += counts.passed;
  failed += counts.failed;
  console.log(`${name}: ${counts.passed} passed, ${counts.failed} failed`);
};

const project = await Deno.makeTempDir({ prefix: "tinker-node-" });
try {
  if (!Deno.args.includes("--no-build")) {
    const built = await sh([...DENO, "task", "build:npm"], root);
    if (built.code !== 0) throw new Error("deno task build:npm failed");
  }
  for (
    const file of [
      "package.json",
      "tsconfig.json",
      "js_check.mjs",
      "ts_check.ts",
      "bundle_check.mjs",
    ]
  ) {
    await Deno.copyFile(`${here}${file}`, `${project}/${file}`);
  }
  // The README's Node path: install the built package (a local folder; nothing is downloaded).
  const installed = await sh(
    [
      "npm",
      "install",
      "--no-audit",
      "--no-fund",
      "--offline",
      `${root}dist/npm`,
    ],
    project,
  );
  if (installed.code !== 0) throw new Error("npm install of dist/npm failed");

  const js = await sh(
    ["node", "--test", "--test-reporter=tap", "js_check.mjs"],
    project,
  );
  record("JavaScript", nodeCounts(js.text, js.code));

  // The types: the build's pinned tsc and @types/node (dist/.tools).
  const tools = `${root}dist/.tools/node_modules`;
  await Deno.symlink(`${tools}/@types`, `${project}/node_modules/@types`);
  const tsc = await sh([
    "node",
    `${tools}/typescript/bin/tsc`,
    "-p",
    "tsconfig.json",
  ], project);
  if (tsc.code !== 0) record("TypeScript (tsc)", { passed: 0, failed: 1 });
  else {
    const ts = await sh([
      "node",
      "--test",
      "--test-reporter=tap",
      "out/ts_check.js",
    ], project);
    record("TypeScript", nodeCounts(ts.text, ts.code));
  }

  const bundled = await sh([
    ...BUN,
    "build",
    "bundle_check.mjs",
    "--target=node",
    "--outfile=build/bundle.mjs",
  ], project);
  if (bundled.code !== 0) {
    record("bundle (bun build)", { passed: 0, failed: 1 });
  } else {
    const bundle = await sh([
      "node",
      "--test",
      "--test-reporter=tap",
      "build/bundle.mjs",
    ], project);
    record("bundle", nodeCounts(bundle.text, bundle.code));
  }
} catch (error) {
  console.error(`${error}`);
  failed++;
} finally {
  await Deno.remove(project, { recursive: true });
}
console.log(
  `\n${failed === 0 ? "ok" : "FAILED"} | ${passed} passed | ${failed} failed`,
);
Deno.exit(failed === 0 ? 0 : 1);
