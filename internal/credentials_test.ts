// Where the client finds its credential, in the official SDK's order: the
// `apiKey` option, TINKER_API_KEY, TINKER_CREDENTIAL_CMD (run on every token
// request), then the default key of ~/.tinker/credentials.json. Every case
// talks to the fake server and checks which key it received.

import assert from "node:assert/strict";
import { RestClient, TinkerError } from "../mod.ts";
import { FAKE_IDS, type FakeTinker, spawnFakeTinker, startFakeTinker } from "../testing/mod.ts";
import type { FakeTinkerOptions } from "../testing/mod.ts";

const WRONG = "tml-wrong-key-from-a-lower-source";

/** A temp HOME, with a credentials file holding `key` as the default when given. */
async function home(key?: string, extra: Record<string, unknown> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tinker-home-" });
  if (key !== undefined) {
    await writeCredentials(dir, {
      version: 1,
      default: "101",
      keys: { "101": { type: "manual", key, name: "tinker-cli-test", note: "" } },
      ...extra,
    });
  }
  return dir;
}

async function writeCredentials(dir: string, data: unknown): Promise<string> {
  await Deno.mkdir(`${dir}/.tinker`, { recursive: true, mode: 0o700 });
  const path = `${dir}/.tinker/credentials.json`;
  await Deno.writeTextFile(path, typeof data === "string" ? data : JSON.stringify(data), {
    mode: 0o600,
  });
  return path;
}

interface Setup extends AsyncDisposable {
  fake: FakeTinker;
  home: string;
  client(env: Record<string, string | undefined>, apiKey?: string, timeoutMs?: number): RestClient;
}

async function setup(key?: string, options: FakeTinkerOptions = {}): Promise<Setup> {
  const fake = await startFakeTinker(options);
  const dir = await home(key === "fake" ? fake.apiKey : key);
  return {
    fake,
    home: dir,
    client: (env, apiKey, timeoutMs) =>
      new RestClient({
        baseUrl: fake.url,
        apiKey,
        env: { HOME: dir, ...env },
        maxRetries: 0,
        timeoutMs,
      }),
    async [Symbol.asyncDispose]() {
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A shell command printing `text` and counting its runs in `<dir>/runs`. */
function printing(dir: string, text: string): string {
  return `echo run >> '${dir}/runs'; printf '%s\\n' '${text}'`;
}

async function runs(dir: string): Promise<number> {
  try {
    return (await Deno.readTextFile(`${dir}/runs`)).split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

const keysSent = (fake: FakeTinker) => new Set(fake.log.map((r) => r.headers["x-api-key"]));

Deno.test("each credential source is used only when the ones before it are unset", async (t) => {
  await using env = await setup(WRONG, { jwtAuth: true });
  const run = FAKE_IDS.run;
  const key = env.fake.apiKey;
  const cmd = printing(env.home, WRONG);

  await t.step("the apiKey option wins over everything", async () => {
    const rest = env.client({ TINKER_API_KEY: WRONG, TINKER_CREDENTIAL_CMD: cmd }, key);
    assert.equal((await rest.getTrainingRun(run)).training_run_id, run);
    assert.equal(await runs(env.home), 0);
  });
  await t.step("TINKER_API_KEY wins over the command and the file", async () => {
    const rest = env.client({ TINKER_API_KEY: key, TINKER_CREDENTIAL_CMD: cmd });
    assert.equal((await rest.getTrainingRun(run)).training_run_id, run);
    assert.equal(await runs(env.home), 0);
  });
  await t.step("TINKER_CREDENTIAL_CMD wins over the file", async () => {
    const rest = env.client({ TINKER_CREDENTIAL_CMD: printing(env.home, key) });
    assert.equal((await rest.getTrainingRun(run)).training_run_id, run);
    assert.equal(await runs(env.home), 2); // The config request and the JWT exchange.
  });
  await t.step("a malformed key with a command set falls back to the command", async () => {
    const rest = env.client({ TINKER_CREDENTIAL_CMD: printing(env.home, key) }, "sk-not-tinker");
    assert.equal((await rest.getTrainingRun(run)).training_run_id, run);
  });
  await t.step("the stored default key comes last", async () => {
    await writeCredentials(env.home, {
      version: 1,
      default: "7",
      keys: {
        "7": { type: "manual", key, name: "laptop" },
        "8": { type: "manual", key: WRONG, name: "x" },
      },
    });
    const rest = env.client({});
    assert.equal((await rest.getTrainingRun(run)).training_run_id, run);
  });
  assert.deepEqual(
    [...keysSent(env.fake)].filter((k) => k !== key && !k?.startsWith("eyJ")),
    [],
    "no request carried a key of a lower source",
  );
});

Deno.test("without any source the error names every one of them", async () => {
  await using env = await setup();
  const error = await rejection(env.client({}).getTrainingRun(FAKE_IDS.run));
  assert.ok(error instanceof TinkerError);
  assert.match(error.message, /apiKey.*TINKER_API_KEY.*tinker auth login/);
  const noHome = new RestClient({ baseUrl: env.fake.url, env: {} });
  const error2 = await rejection(noHome.getTrainingRun(FAKE_IDS.run));
  assert.match(error2.message, /HOME is not set/);
  await writeCredentials(env.home, { version: 1, default: "gone", keys: {} });
  const error3 = await rejection(env.client({}).getTrainingRun(FAKE_IDS.run));
  assert.match(error3.message, /The API key is missing/);
  assert.equal(env.fake.log.length, 0);
});

Deno.test("the command runs on every token request: the bootstrap and each JWT exchange", async () => {
  await using env = await setup(undefined, { jwtAuth: true });
  const rest = env.client({ TINKER_CREDENTIAL_CMD: printing(env.home, env.fake.apiKey) });
  await rest.getTrainingRun(FAKE_IDS.run);
  assert.equal(await runs(env.home), 2); // POST /client/config, POST /auth/token.
  await rest.getTrainingRun(FAKE_IDS.run);
  assert.equal(await runs(env.home), 2); // The JWT is still fresh.
  // A JWT inside the refresh margin (five minutes) is exchanged again, with a fresh run.
  await env.fake.setOptions({ jwtTtlSeconds: 30 });
  await env.fake.inject({
    path: "/api/v1/training_runs",
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token"' },
  });
  await rest.listTrainingRuns({ limit: 1 });
  const exchanges = env.fake.log.filter((r) => r.path === "/api/v1/auth/token");
  assert.ok(exchanges.length >= 2);
  assert.equal(await runs(env.home), exchanges.length + 1); // One run per exchange, one for the config.
  assert.ok(exchanges.every((r) => r.headers["x-api-key"] === env.fake.apiKey));
  const calls = env.fake.log.filter((r) => r.path.startsWith("/api/v1/training_runs"));
  assert.ok(calls.every((r) => r.headers["x-api-key"]?.startsWith("eyJ")));
});

Deno.test("an organization requiring dynamic credentials gets the command's credential", async (t) => {
  await using env = await setup(undefined, {
    jwtAuth: true,
    clientConfig: { credential_default_source: "credential_cmd" },
  });
  await t.step("with the command set, the JWT is exchanged with its output", async () => {
    const cmd = printing(env.home, env.fake.apiKey);
    const rest = env.client({ TINKER_CREDENTIAL_CMD: cmd }, "tml-static-key-not-used-for-jwt");
    const error = await rejection(rest.getTrainingRun(FAKE_IDS.run));
    // The config request went out with the static key (the fake rejects it), as in the SDK.
    assert.match(error.message, /401/);
    const good = env.client({ TINKER_CREDENTIAL_CMD: cmd });
    await good.getTrainingRun(FAKE_IDS.run);
    const exchange = env.fake.log.findLast((r) => r.path === "/api/v1/auth/token")!;
    assert.equal(exchange.headers["x-api-key"], env.fake.apiKey);
  });
  await t.step("without it, the error says what to set", async () => {
    const rest = env.client({}, env.fake.apiKey);
    const error = await rejection(rest.getTrainingRun(FAKE_IDS.run));
    assert.ok(error instanceof TinkerError);
    assert.match(error.message, /requires dynamic credentials — set TINKER_CREDENTIAL_CMD/);
  });
});

Deno.test("a failing, empty, expired or hanging command is a clear error", async (t) => {
  await using env = await setup(undefined, { jwtAuth: true });
  const fails = async (cmd: string, pattern: RegExp, timeoutMs?: number) => {
    const rest = env.client({ TINKER_CREDENTIAL_CMD: cmd }, undefined, timeoutMs);
    const error = await rejection(rest.getTrainingRun(FAKE_IDS.run));
    assert.equal(error.constructor, TinkerError, String(error));
    assert.match(error.message, pattern);
    assert.match(error.message, /^TINKER_CREDENTIAL_CMD /);
  };
  await t.step("a command that fails", () =>
    fails(
      "echo 'vault: permission denied' >&2; exit 3",
      /returned an empty credential; it exited with status 3: vault: permission denied/,
    ));
  await t.step("a command that prints nothing", () => fails("true", /empty credential\.$/));
  await t.step("an expired JWT", () => {
    const body = btoa(JSON.stringify({ exp: 1000 })).replace(/=+$/, "");
    return fails(`echo eyJhbGciOiJIUzI1NiJ9.${body}.sig`, /printed an expired JWT/);
  });
  await t.step(
    "a command that hangs is stopped at the client's timeout",
    () => fails("sleep 30; echo tml-late", /did not finish within 300 ms and was stopped/, 300),
  );
  await t.step("a failing command is run once per call, not retried", async () => {
    const rest = new RestClient({
      baseUrl: env.fake.url,
      env: { HOME: env.home, TINKER_CREDENTIAL_CMD: `echo run >> '${env.home}/runs'; exit 2` },
      initialRetryDelayMs: 1,
    });
    const error = await rejection(rest.getTrainingRun(FAKE_IDS.run));
    assert.equal(error.constructor, TinkerError);
    assert.match(error.message, /^TINKER_CREDENTIAL_CMD returned an empty credential/);
    assert.equal(await runs(env.home), 1);
  });
  await t.step(
    "a command that cannot start",
    () => fails("/nonexistent/credential-helper", /empty credential; it exited with status 127/),
  );
  assert.equal(env.fake.log.length, 0);
});

Deno.test("a credential the command prints that cannot go in a header is refused, nothing sent", async (t) => {
  await using env = await setup(undefined, { jwtAuth: true });
  const key = "tml-printed-key-0123456789abcdef";
  const refused = async (cmd: string, pattern: RegExp) => {
    const rest = new RestClient({
      baseUrl: env.fake.url,
      env: { HOME: env.home, TINKER_CREDENTIAL_CMD: cmd },
      initialRetryDelayMs: 1,
    });
    const error = await rejection(rest.getTrainingRun(FAKE_IDS.run));
    assert.equal(error.constructor, TinkerError, String(error));
    assert.match(
      error.message,
      /^TINKER_CREDENTIAL_CMD printed a credential that contains whitespace or characters that cannot be sent in an HTTP header/,
    );
    assert.match(error.message, pattern);
    assert.ok(!JSON.stringify([error.message, error.stack]).includes(key), error.message);
    assert.ok(!error.message.includes("ключ"), error.message);
  };
  await t.step(
    "two lines (the SDK strips only the ends, so both are the credential)",
    () =>
      refused(
        `printf '%s\\n%s\\n' ${key} second`,
        /\(2 lines: it must print the credential alone\); nothing was sent\.$/,
      ),
  );
  await t.step(
    "a space inside",
    () => refused(`echo '${key} x'`, /HTTP header; nothing was sent\.$/),
  );
  await t.step(
    "a character outside ASCII",
    () => refused("echo tml-ключ", /HTTP header; nothing was sent\.$/),
  );
  await t.step("surrounding whitespace is not part of it", async () => {
    const rest = env.client({
      TINKER_CREDENTIAL_CMD: `printf ' \\t%s\\r\\n\\n' ${env.fake.apiKey}`,
    });
    assert.equal((await rest.getTrainingRun(FAKE_IDS.run)).training_run_id, FAKE_IDS.run);
  });
  const sent = env.fake.log.length;
  await t.step(
    "each run's output is checked: a bad one at the JWT exchange is refused too",
    async () => {
      // The first run (the config request) prints a good key, the second (the exchange) two lines.
      const cmd = `if [ -f '${env.home}/ran' ]; then printf '%s\\n%s\\n' ${key} second; ` +
        `else touch '${env.home}/ran'; echo ${env.fake.apiKey}; fi`;
      await refused(cmd, /2 lines/);
      const paths = env.fake.log.slice(sent).map((r) => r.path);
      assert.deepEqual(paths, ["/api/v1/client/config"]);
    },
  );
  assert.ok(env.fake.log.every((r) => r.headers["x-api-key"] !== key));
});

Deno.test("the stored key and the command work with .result() too, bounded in time", async () => {
  const fake = await spawnFakeTinker({ jwtAuth: true });
  const dir = await home(fake.apiKey);
  try {
    const client = (env: Record<string, string>, timeoutMs?: number) =>
      new RestClient({ baseUrl: fake.url, env: { HOME: dir, ...env }, maxRetries: 0, timeoutMs });
    assert.equal(client({}).getTrainingRun(FAKE_IDS.run).result().training_run_id, FAKE_IDS.run);
    const cmd = printing(dir, fake.apiKey);
    assert.equal(
      client({ TINKER_CREDENTIAL_CMD: cmd }).getTrainingRun(FAKE_IDS.run).result().training_run_id,
      FAKE_IDS.run,
    );
    assert.equal(await runs(dir), 2);
    assert.throws(
      () => client({ TINKER_CREDENTIAL_CMD: "exit 4" }).getTrainingRun(FAKE_IDS.run).result(),
      /TINKER_CREDENTIAL_CMD returned an empty credential; it exited with status 4\./,
    );
    assert.throws(
      () =>
        client({ TINKER_CREDENTIAL_CMD: "sleep 30; echo tml-late" }, 300)
          .getTrainingRun(FAKE_IDS.run).result(),
      /did not finish within 300 ms/,
    );
    const sent = new Set((await fake.requests()).map((r) => r.headers["x-api-key"]));
    assert.ok([...sent].every((k) => k === fake.apiKey || k?.startsWith("eyJ")));
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt credentials file is an error naming the file and what is wrong", async () => {
  await using env = await setup();
  const cases: [unknown, RegExp][] = [
    ["{not json", /is not JSON/],
    [[], /not a JSON object/],
    [{ version: 2, keys: {} }, /"version" is 2, not 1/],
    [{ default: "a", keys: { a: { key: "tml-x", name: "n" } } }, /key "a" has "type" undefined/],
    [{ default: "a", keys: { a: { type: "manual", name: "n" } } }, /key "a" has no string "key"/],
    [{ default: "a", keys: { a: { type: "generated", key: "tml-x", name: "n" } } }, /no "details"/],
  ];
  for (const [data, pattern] of cases) {
    const path = await writeCredentials(env.home, data);
    const error = await rejection(env.client({}).getTrainingRun(FAKE_IDS.run));
    assert.ok(error instanceof TinkerError);
    assert.match(error.message, pattern);
    assert.ok(error.message.includes(path), error.message);
    assert.ok(!error.message.includes("tml-x"));
  }
  assert.equal(env.fake.log.length, 0);
});

Deno.test({
  name: "a credentials file others can read, or owned by another user, is used with a warning",
  ignore: Deno.build.os === "windows",
}, async () => {
  await using env = await setup("fake");
  const path = `${env.home}/.tinker/credentials.json`;
  await Deno.chmod(path, 0o644);
  if (Deno.uid() === 0) await Deno.chown(path, 65534, 65534);
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  try {
    await env.client({}).getTrainingRun(FAKE_IDS.run);
  } finally {
    console.warn = original;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /other users may read it \(mode 644; run chmod 600\)/);
  if (Deno.uid() === 0) assert.match(warnings[0]!, /belongs to user 65534, not to you \(0\)/);
  assert.ok(!warnings[0]!.includes(env.fake.apiKey));
});

Deno.test("a key from the file or the command never reaches an error or a log line", async () => {
  await using env = await setup("fake");
  const key = env.fake.apiKey;
  const lines: string[] = [];
  await env.fake.setOptions({ jwtAuth: true });
  for (const extra of [{}, { TINKER_CREDENTIAL_CMD: `echo ${key}` }]) {
    const rest = new RestClient({
      baseUrl: env.fake.url,
      env: { HOME: env.home, ...extra },
      maxRetries: 0,
      logger: (line) => lines.push(line),
    });
    await env.fake.inject({ path: /training_runs/, status: 400, body: { detail: `bad ${key}` } });
    const error = await rejection(rest.getTrainingRun(FAKE_IDS.run)) as Error & { body?: unknown };
    assert.match(error.message, /\[redacted\]/);
    assert.ok(!JSON.stringify([error.message, error.body, error.stack]).includes(key));
  }
  assert.ok(lines.length > 0);
  assert.ok(!lines.join("\n").includes(key));
  assert.deepEqual([...keysSent(env.fake)].filter((k) => !k?.startsWith("eyJ")), [key]);
});

Deno.test({
  name: "without --allow-run or --allow-read the error says what to grant, and nothing prompts",
  ignore: Deno.permissions === undefined,
}, async () => {
  const dir = await home("tml-stored-key-of-the-user");
  const script = `${dir}/script.ts`;
  await Deno.writeTextFile(
    script,
    `import { RestClient } from "${new URL("../mod.ts", import.meta.url).href}";
    for (const env of [{ TINKER_CREDENTIAL_CMD: "echo tml-x" }, { HOME: Deno.args[0] }]) {
      const rest = new RestClient({ baseUrl: "http://127.0.0.1:1", env, maxRetries: 0 });
      try { await rest.getTrainingRun("x"); } catch (e) { console.log(e.message); }
    }`,
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--allow-read=${script}`, script, dir],
    stdin: "null",
  }).output();
  await Deno.remove(dir, { recursive: true });
  const text = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.match(text, /TINKER_CREDENTIAL_CMD is set, but Deno was not given --allow-run/);
  assert.match(text, /The API key is missing.*not looked for: Deno was not given --allow-read/);
  assert.ok(!text.includes("tml-stored-key-of-the-user"));
});
