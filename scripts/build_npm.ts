// Builds the npm package for Node without JSR: `dist/npm`, ES modules with
// `.d.ts` files, emitted by stock `tsc` from npm (pinned) with strict
// settings. Any type error fails the build: these are the same checks JSR's
// npm layer runs when it emits declarations.
//
//   deno task build:npm        builds dist/npm
//
// TypeScript and @types/node (for `testing/`, which uses `node:http`) are
// installed once, at pinned versions, into dist/.tools with npm.

const TYPESCRIPT = "5.9.3";
const TYPES_NODE = "20.19.43";

const root = new URL("../", import.meta.url).pathname;
const tools = `${root}dist/.tools`;
const out = `${root}dist/npm`;
/**
 * The entry points; tsc follows their imports. They are deno.json's exports
 * but the CLI (Node runs the Bun binary or `deno run` instead), plus
 * `serve.ts`, which `spawnFakeTinker` runs.
 */
const ENTRIES = ["mod.ts", "openai_client.ts", "download.ts", "testing/mod.ts", "testing/serve.ts"];

async function run(cmd: string, args: string[], cwd = root): Promise<void> {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  const { code } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "inherit",
    stderr: "inherit",
  })
    .output();
  if (code !== 0) {
    throw new Error(`${cmd} ${args[0] ?? ""} failed with exit code ${code}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function ensureTools(): Promise<string> {
  const tsc = `${tools}/node_modules/typescript/bin/tsc`;
  const pinned = `${tools}/node_modules/typescript/package.json`;
  const installed = await exists(pinned) &&
    JSON.parse(await Deno.readTextFile(pinned)).version === TYPESCRIPT &&
    await exists(`${tools}/node_modules/@types/node/package.json`) &&
    JSON.parse(
        await Deno.readTextFile(
          `${tools}/node_modules/@types/node/package.json`,
        ),
      )
        .version === TYPES_NODE;
  if (!installed) {
    await Deno.mkdir(tools, { recursive: true });
    await Deno.writeTextFile(`${tools}/package.json`, '{ "private": true }\n');
    await run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--save-exact",
      `typescript@${TYPESCRIPT}`,
      `@types/node@${TYPES_NODE}`,
    ], tools);
  }
  return tsc;
}

const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`)) as {
  name: string;
  version: string;
  compilerOptions: Record<string, boolean>;
};

/** The tsc settings: the repo's strict flags, ES modules, declarations. */
const tsconfig = {
  compilerOptions: {
    ...config.compilerOptions,
    strict: true,
    target: "ES2022",
    module: "ES2022",
    moduleResolution: "Bundler",
    lib: ["ES2024", "ESNext.Disposable", "DOM", "DOM.Iterable"],
    types: ["node"],
    typeRoots: [`${tools}/node_modules/@types`],
    rewriteRelativeImportExtensions: true,
    declaration: true,
    isolatedDeclarations: false,
    skipLibCheck: false,
    rootDir: root,
    outDir: out,
    newLine: "lf",
    removeComments: false,
  },
  files: ENTRIES.map((entry) => `${root}${entry}`),
};

const tsc = await ensureTools();
await Deno.remove(out, { recursive: true }).catch(() => {});
const project = `${root}dist/tsconfig.npm.json`;
await Deno.writeTextFile(project, JSON.stringify(tsconfig, null, 2));
await run("node", [tsc, "-p", project]);

const pkg = {
  name: config.name,
  version: config.version,
  description:
    "A zero-dependency TypeScript client and test server for the REST side of Tinker, Thinking Machines' fine-tuning service",
  license: "MIT",
  type: "module",
  engines: { node: ">=20" },
  exports: {
    ".": { types: "./mod.d.ts", default: "./mod.js" },
    "./openai": { types: "./openai_client.d.ts", default: "./openai_client.js" },
    "./download": { types: "./download.d.ts", default: "./download.js" },
    "./testing": { types: "./testing/mod.d.ts", default: "./testing/mod.js" },
    "./testing/serve": {
      types: "./testing/serve.d.ts",
      default: "./testing/serve.js",
    },
  },
  sideEffects: ["./testing/serve.js"],
};
await Deno.writeTextFile(
  `${out}/package.json`,
  JSON.stringify(pkg, null, 2) + "\n",
);
for (const file of ["README.md", "LICENSE"]) {
  await Deno.copyFile(`${root}${file}`, `${out}/${file}`);
}
console.log(
  `Built ${out} (${config.name}@${config.version}, TypeScript ${TYPESCRIPT})`,
);
