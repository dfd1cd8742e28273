// `tinker auth login | logout | status | whoami` against the fake server,
// with HOME pointed at a temp dir: the file is written owner-only in the
// SDK's format, the key is verified before it is stored, never printed
// (not even with --verbose), and every command finds it afterwards.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";
import { runCli } from "./cli_run.ts";

async function fixture(options: Parameters<typeof startFakeTinker>[0] = {}) {
  const fake = await startFakeTinker(options);
  const home = await mkdtemp(join(tmpdir(), "tinker-auth-home-"));
  const file = join(home, ".tinker", "credentials.json");
  const env = { HOME: home, TINKER_BASE_URL: fake.url };
  const cli = (args: string[], extra: { env?: Record<string, string>; stdin?: string } = {}) =>
    runCli(args, { env: { ...env, ...extra.env }, stdin: extra.stdin });
  const noKey = (text: string) => assert.ok(!text.includes(fake.apiKey), `key leaked: ${text}`);
  return {
    fake,
    home,
    file,
    cli,
    noKey,
    async [Symbol.asyncDispose]() {
      await fake.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

Deno.test("auth login stores a verified key owner-only, in the SDK's format", async (t) => {
  await using f = await fixture();
  await t.step("the key comes from stdin and is checked with the server first", async () => {
    const r = await f.cli(["auth", "login"], { stdin: `${f.fake.apiKey}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Create an API Key: https:\/\/tinker\.thinkingmachines\.ai\/keys\?new_key=true&key_name=tinker-cli-\S+\n\n/,
    );
    assert.match(
      r.stdout,
      /Logged in as ada@example\.com \(Fake Org\)\. Stored API key 'tinker-cli-fake' as the default credential\.\n$/,
    );
    f.noKey(r.stdout + r.stderr);
    const check = f.fake.log.find((q) => q.path === "/api/v1/auth/apikey/me")!;
    assert.equal(check.method, "GET");
    assert.equal(check.headers["x-api-key"], f.fake.apiKey);
  });
  await t.step("the file is 0600 in a 0700 directory, in the SDK's layout", async () => {
    if (Deno.build.os !== "windows") {
      assert.equal((await stat(f.file)).mode & 0o777, 0o600);
      assert.equal((await stat(join(f.home, ".tinker"))).mode & 0o777, 0o700);
    }
    assert.equal(
      await readFile(f.file, "utf8"),
      JSON.stringify(
        {
          version: 1,
          default: "4242",
          keys: {
            "4242": {
              type: "manual",
              key: f.fake.apiKey,
              name: "tinker-cli-fake",
              note: "created in the console",
              details: {
                org_details: { name: "Fake Org" },
                user_details: { email: "ada@example.com" },
              },
            },
          },
        },
        null,
        2,
      ),
    );
  });
  await t.step("every command then finds the key without TINKER_API_KEY", async () => {
    const r = await f.cli(["-f", "json", "run", "list", "--limit", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).runs.length, 2);
    const verbose = await f.cli(["--verbose", "run", "info", "no-such-run"]);
    assert.equal(verbose.code, 4);
    assert.match(verbose.stderr, /\[http\] GET http:.* -> 404/);
    f.noKey(verbose.stdout + verbose.stderr);
    const status = await f.cli(["auth", "status"]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(
      status.stdout,
      `Credentials available: yes\nCredential source: ${f.file} (key 'tinker-cli-fake', id 4242)\nTinker accessible: yes\n`,
    );
  });
  await t.step("a second login is refused until logout", async () => {
    const r = await f.cli(["auth", "login", "--api-key", f.fake.apiKey]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "Error: Already logged in\nRun 'tinker auth logout' before logging in again.\n",
    );
  });
  await t.step("logout removes a pasted key and says where to delete it", async () => {
    const r = await f.cli(["auth", "logout"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "Removed credential 'tinker-cli-fake'. The API key is still active.\n" +
        "API key organization: Fake Org\n" +
        "Delete api key here: https://tinker.thinkingmachines.ai/keys/4242\n",
    );
    assert.ok(!f.fake.log.some((q) => q.method === "DELETE"));
    const left = JSON.parse(await readFile(f.file, "utf8"));
    assert.deepEqual(left, { version: 1, keys: {} });
    const again = await f.cli(["auth", "logout"]);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /^Error: No default credential is stored\n/);
  });
  await t.step("--api-key logs in too, and --verbose shows no key", async () => {
    const r = await f.cli(["--verbose", "auth", "login", "--api-key", f.fake.apiKey]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /\[http\] GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/auth\/apikey\/me -> 200/,
    );
    assert.ok(!r.stdout.includes("Create an API Key")); // No prompt: no console URL.
    f.noKey(r.stdout + r.stderr);
  });
});

Deno.test("auth login refuses a key the server rejects, and stores nothing", async () => {
  await using f = await fixture();
  const wrong = "tml-typo-in-the-key-0000";
  const r = await f.cli(["--verbose", "auth", "login"], { stdin: `${wrong}\n` });
  assert.equal(r.code, 3);
  assert.match(
    r.stderr,
    /Error: Could not validate the API key\nUnable to validate credential \(HTTP 401 from \/api\/v1\/auth\/apikey\/me\)\n/,
  );
  assert.ok(!(r.stdout + r.stderr).includes(wrong));
  await assert.rejects(stat(f.file));
  const empty = await f.cli(["auth", "login"], { stdin: "  \n" });
  assert.equal(empty.code, 6);
  assert.match(empty.stderr, /^Error: The API key must not be empty\n/);
  const none = await f.cli(["auth", "login"], { stdin: "" });
  assert.equal(none.code, 6);
  assert.match(none.stderr, /^Error: No API key given\n/);
  await assert.rejects(stat(f.file));
});

Deno.test("auth logout deletes a key the CLI generated on the server", async (t) => {
  await using f = await fixture();
  const write = (key: string) =>
    Deno.mkdir(join(f.home, ".tinker"), { recursive: true }).then(() =>
      writeFile(
        f.file,
        JSON.stringify({
          version: 1,
          default: "77",
          keys: {
            "77": {
              type: "generated",
              key,
              name: "tinker-cli-old-laptop",
              details: { org_details: { name: "Acme" }, user_details: { email: "b@acme.test" } },
            },
          },
        }),
      )
    );
  await t.step("deleted with the key itself", async () => {
    await write(f.fake.apiKey);
    const r = await f.cli(["auth", "logout"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "Removed credential 'tinker-cli-old-laptop' and deleted its API key on the server.\n",
    );
    const deleted = f.fake.log.filter((q) => q.method === "DELETE");
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0]!.path, "/api/v1/auth/apikey/me");
    assert.equal(deleted[0]!.headers["x-api-key"], f.fake.apiKey);
  });
  await t.step("a failed deletion still removes the local key and says so", async () => {
    const stale = "tml-revoked-elsewhere-1234";
    await write(stale);
    const r = await f.cli(["auth", "logout"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "Error: Could not delete the API key on the server\n" +
        "Unable to validate credential (HTTP 401 from /api/v1/auth/apikey/me)\n" +
        "Removed the local credential.\nAPI key name: tinker-cli-old-laptop\nAPI key ID: 77\n" +
        "API key organization: Acme\nDelete api key here: https://tinker.thinkingmachines.ai/keys/77\n",
    );
    assert.deepEqual(JSON.parse(await readFile(f.file, "utf8")), { version: 1, keys: {} });
  });
});

Deno.test("auth status and whoami name the credential's source, never the key", async (t) => {
  await using f = await fixture({ jwtAuth: true });
  await t.step("TINKER_API_KEY", async () => {
    const r = await f.cli(["auth", "whoami"], { env: { TINKER_API_KEY: f.fake.apiKey } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Email\s+│?\s*ada@example\.com/);
    assert.match(r.stdout, /Credential source\s+│?\s*TINKER_API_KEY/);
    f.noKey(r.stdout);
  });
  await t.step("TINKER_CREDENTIAL_CMD (run for the request, not for status's check)", async () => {
    const cmd = `echo ${f.fake.apiKey}`;
    const r = await f.cli(["--verbose", "auth", "status"], { env: { TINKER_CREDENTIAL_CMD: cmd } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Credential source: TINKER_CREDENTIAL_CMD \(run for each token\)\n/);
    f.noKey(r.stdout + r.stderr);
    const json = await f.cli(["-f", "json", "whoami"], { env: { TINKER_CREDENTIAL_CMD: cmd } });
    assert.deepEqual(Object.keys(JSON.parse(json.stdout)), ["user_urn", "org_urn", "email"]);
  });
  await t.step("nothing at all", async () => {
    const r = await f.cli(["auth", "status"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "Credentials available: no\n");
    assert.match(r.stderr, /^Error: No Tinker credentials are available\n/);
  });
  await t.step("a corrupt file is named, with what is wrong", async () => {
    await Deno.mkdir(join(f.home, ".tinker"), { recursive: true });
    await writeFile(f.file, `{"version": 1, "default": "1", "keys": {"1": {"key": "tml-x"}}}`);
    const r = await f.cli(["auth", "status"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "Credentials available: no\n");
    assert.ok(r.stderr.includes(f.file), r.stderr);
    assert.match(r.stderr, /key "1" has "type" undefined/);
    const run = await f.cli(["run", "list"]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /is not valid/);
  });
  assert.ok(FAKE_IDS.run);
});

Deno.test("a credential TINKER_CREDENTIAL_CMD prints that no header can carry is exit 3, nothing sent", async (t) => {
  await using f = await fixture({ jwtAuth: true });
  const key = "tml-printed-key-0123456789abcdef";
  // Name, command, and what the message says of the lines.
  const cases: [string, string, string][] = [
    [
      "two lines",
      `printf '%s\\n%s\\n' ${key} second`,
      " \\(2 lines: it must print the credential alone\\)",
    ],
    ["a character outside ASCII", "echo tml-ключ", ""],
  ];
  for (const [name, cmd, lines] of cases) {
    await t.step(name, async () => {
      const r = await f.cli(["run", "list", "--verbose"], {
        env: { TINKER_API_KEY: "", TINKER_CREDENTIAL_CMD: cmd },
      });
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^Error: Configuration error: TINKER_CREDENTIAL_CMD printed a credential that contains whitespace or characters that cannot be sent in an HTTP header${lines}; nothing was sent\\.\\n`,
        ),
      );
      assert.ok(!r.stderr.includes(key) && !r.stderr.includes("ключ"), r.stderr);
      assert.doesNotMatch(r.stderr, /Connection failed|attempt/);
    });
  }
  assert.equal(f.fake.log.length, 0);
});

// A real terminal (a pseudo-terminal driven by Python's pty module): the key
// typed at the prompt shows as stars, never as itself.
const PTY_DRIVER = `
import json, os, pty, sys, time
argv, key = json.loads(sys.argv[1]), sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
def read_until(token, limit):
    global out
    end = time.time() + limit
    while token not in out and time.time() < end:
        try:
            out += os.read(fd, 4096)
        except OSError:
            break
read_until(b"Paste your API key: ", 30)
os.write(fd, key[:-1].encode())
time.sleep(0.2)
os.write(fd, key[-1].encode() + b"x\\x7f\\r")
read_until(b"default credential.", 30)
_, status = os.waitpid(pid, 0)
print(json.dumps({"output": out.decode(errors="replace"), "code": os.waitstatus_to_exitcode(status)}))
`;

Deno.test({
  name: "on a terminal, auth login reads the key without echoing it",
  ignore: Deno.build.os === "windows",
}, async () => {
  await using f = await fixture();
  const cli = new URL("../cli/_entry.ts", import.meta.url).pathname;
  const child = new Deno.Command("python3", {
    args: [
      "-c",
      PTY_DRIVER,
      JSON.stringify([Deno.execPath(), "run", "-A", cli, "auth", "login"]),
      f.fake.apiKey,
    ],
    env: { HOME: f.home, TINKER_BASE_URL: f.fake.url, PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
  const { stdout, stderr } = await child.output();
  const result = JSON.parse(new TextDecoder().decode(stdout)) as { output: string; code: number };
  assert.equal(result.code, 0, result.output + new TextDecoder().decode(stderr));
  assert.ok(
    result.output.includes(`Paste your API key: ${"*".repeat(f.fake.apiKey.length)}*\b \b`),
  );
  assert.match(result.output, /Stored API key 'tinker-cli-fake' as the default credential\./);
  f.noKey(result.output);
  assert.equal(JSON.parse(await readFile(f.file, "utf8")).keys["4242"].key, f.fake.apiKey);
});
