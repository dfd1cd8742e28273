// Does a program that only uses RestClient pay for the training and sampling
// types? Bundles (Bun, minified) three one-line programs and prints sizes:
//
//   rest-only via mod.ts     import { RestClient } from "mod.ts"
//   rest-only direct         import { RestClient } from "rest_client.ts" (the baseline)
//   with training types      RestClient + ModelInput + TensorData from "mod.ts"
//
// The first two must be the same: everything else mod.ts exports must
// tree-shake away. They are compared byte for byte as bundled with identifiers
// kept (--minify-whitespace --minify-syntax): the minifier's short names
// depend on the whole module graph, so fully minified sizes can differ by a
// few bytes for the very same code. Exits 1 when they differ.
//
//   deno run -A bench/tree_shake.ts

const BUN = ["npx", "-y", "bun@1.4.5"];
const root = new URL("../", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "tinker-tree-shake-" });

const programs: Record<string, string> = {
  "rest-only via mod.ts": `import { RestClient } from "${root}mod.ts";
console.log(new RestClient({ apiKey: "k", baseUrl: "http://127.0.0.1:1" }));`,
  "rest-only direct": `import { RestClient } from "${root}rest_client.ts";
console.log(new RestClient({ apiKey: "k", baseUrl: "http://127.0.0.1:1" }));`,
  "with training types": `import { ModelInput, RestClient, TensorData } from "${root}mod.ts";
console.log(new RestClient({ apiKey: "k", baseUrl: "http://127.0.0.1:1" }));
console.log(ModelInput.fromInts([1]), new TensorData({ data: [1], dtype: "int64" }));`,
};

async function bundle(name: string, source: string, flags: string[]): Promise<Uint8Array> {
  const entry = `${dir}/${name.replaceAll(/\W+/g, "_")}.ts`;
  const out = `${entry}.js`;
  await Deno.writeTextFile(entry, source);
  const built = await new Deno.Command(BUN[0]!, {
    args: [...BUN.slice(1), "build", ...flags, entry, "--outfile", out],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!built.success) throw new Error(new TextDecoder().decode(built.stderr));
  return await Deno.readFile(out);
}

const bundledSize = async (name: string, source: string) =>
  (await bundle(name, source, ["--minify"])).byteLength;
/** The bundle with identifiers kept, as text (the comparison). */
const keptNames = async (name: string, source: string) =>
  new TextDecoder().decode(
    await bundle(name, source, ["--minify-whitespace", "--minify-syntax"]),
  );

try {
  const sizes: Record<string, number> = {};
  for (const [name, source] of Object.entries(programs)) {
    sizes[name] = await bundledSize(name, source);
    console.log(`${name.padEnd(24)} ${sizes[name]} bytes`);
  }
  const ok = (await keptNames("via", programs["rest-only via mod.ts"]!)) ===
    (await keptNames("direct", programs["rest-only direct"]!));
  console.log(
    ok
      ? "RestClient-only bundle: unchanged by the training and sampling exports"
      : "RestClient-only bundle GREW: something mod.ts exports does not tree-shake",
  );
  if (!ok) Deno.exitCode = 1;
} finally {
  await Deno.remove(dir, { recursive: true });
}
