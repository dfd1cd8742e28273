// Partial Deno permissions: what the client cannot read is named, not guessed.
import assert from "node:assert/strict";

const MOD = new URL("../mod.ts", import.meta.url).href;

/** Runs `code` (importing the library) under `deno run` with `flags` and `env`. */
async function run(flags: string[], env: Record<string, string>, code: string) {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/script.ts`;
    await Deno.writeTextFile(script, `import { RestClient } from "${MOD}";\n${code}\n`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, script],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, out: decode(out.stdout), err: decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a key that is set but not readable names the missing --allow-env", async () => {
  const got = await run(
    [],
    { TINKER_API_KEY: "tml-set-but-hidden" },
    `
    await new RestClient().listTrainingRuns().then(
      () => console.log("no error"),
      (e) => console.log(e.message),
    );`,
  );
  assert.equal(got.code, 0, got.err);
  assert.match(got.out, /The API key is missing/);
  assert.match(
    got.out,
    /Deno was not granted --allow-env=TINKER_API_KEY,TINKER_CREDENTIAL_CMD,HOME/,
  );
  assert.doesNotMatch(got.out, /tml-set-but-hidden/);
});

Deno.test("a key read from the environment without the base URL warns instead of going on in silence", async () => {
  const got = await run(["--allow-env=TINKER_API_KEY"], {
    TINKER_API_KEY: "tml-readable",
    TINKER_BASE_URL: "http://127.0.0.1:9",
  }, `const rest = new RestClient(); console.log(rest.baseUrl);`);
  assert.equal(got.code, 0, got.err);
  assert.match(
    got.err,
    /^Warning: using the default base URL https:\/\/\S+ \(Deno was not granted --allow-env=TINKER_BASE_URL, so that variable was not read\)\.$/m,
  );
  assert.doesNotMatch(got.err, /tml-readable/);
});

Deno.test("with the permissions granted, nothing is said", async () => {
  const got = await run(["--allow-env=TINKER_API_KEY,TINKER_BASE_URL"], {
    TINKER_API_KEY: "tml-readable",
    TINKER_BASE_URL: "http://127.0.0.1:9",
  }, `console.log(new RestClient().baseUrl);`);
  assert.equal(got.code, 0, got.err);
  assert.equal(got.out.trim(), "http://127.0.0.1:9");
  assert.equal(got.err, "");
});
