// Hostile input: a table of bad arguments (look-alike tinker paths, path
// tricks, control characters, absurd numbers, impossible dates) and malicious
// server answers. Every bad argument is refused before anything is sent, with
// the error class and a message that names the input, and with no raw control
// character in the message; malicious data from the server is rendered
// inert by the CLI.

import assert from "node:assert/strict";
import {
  InvalidArgumentError,
  parseTinkerPath,
  RestClient,
  type TinkerError,
  TinkerPathError,
} from "../mod.ts";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";
import {
  FAST,
  listTree,
  outcome,
  respond,
  runCli,
  startRawServer,
  UNSAFE_CHARS,
} from "./_reliability.ts";

const RUN = FAKE_IDS.run;
const GOOD_PATH = FAKE_IDS.checkpointPath;
const SESSION = FAKE_IDS.sessionId;

// deno-lint-ignore no-explicit-any
type Loose = any;

interface Case {
  /** What the input is, as a sentence fragment. */
  name: string;
  call(rest: RestClient): unknown;
  error: abstract new (...args: never[]) => TinkerError;
  /** A fragment the message must contain (the argument's name or the input). */
  names: string | RegExp;
}

const path = (p: string, name: string, names: string | RegExp = "tinker://"): Case => ({
  name,
  call: (rest) => rest.deleteCheckpointFromTinkerPath(p),
  error: TinkerPathError,
  names,
});

const TINKER_PATHS: Case[] = [
  path(`t\u0456nker://${RUN}/weights/0001`, "a Cyrillic і in the scheme", "must start with"),
  path(`tinker:\uff0f\uff0f${RUN}/weights/0001`, "fullwidth slashes after the scheme"),
  path(`tinker://${RUN}\uff0fweights\uff0f0001`, "fullwidth slashes between segments"),
  path(`TINKER://${RUN}/weights/0001`, "an upper-case scheme", "must start with"),
  path(` tinker://${RUN}/weights/0001`, "a leading space", "must start with"),
  path(`tinker://../weights/0001`, "a run id of ..", ".."),
  path(`tinker://${RUN}/weights/..`, "a checkpoint name of ..", ".."),
  path(`tinker://${RUN}/weights/.`, "a checkpoint name of .", '"."'),
  path(`tinker://${RUN}/../weights/0001`, "a .. segment in the middle", "segments"),
  path(`tinker://${RUN}%2F..%2Fother/weights/0001`, "a %2F-encoded slash", '"%"'),
  path(`tinker://${RUN}/weights/0001%00`, "a %00-encoded NUL", '"%"'),
  path(`tinker://${RUN}/weights/0001?admin=1`, "a query string", '"?"'),
  path(`tinker://${RUN}/weights/0001#frag`, "a fragment", '"#"'),
  path(`tinker://${RUN}/weights/00 01`, "a space in the name", "a space"),
  path(`tinker://${RUN}/weights/0001\n`, "a trailing newline", "U+000A"),
  path(`tinker://${RUN}/weights/0001\t`, "a trailing tab", "U+0009"),
  path(`tinker://${RUN}/weights/00\u000001`, "a NUL in the name", "U+0000"),
  path(`tinker://${RUN}/weights/0001\r`, "a carriage return", "U+000D"),
  path(`tinker://${RUN}/weights/\x1b[2J`, "an ANSI clear-screen sequence", "U+001B"),
  path(`tinker://${RUN}/weights/a\u009b2J`, "a C1 CSI control character", "U+009B"),
  path(`tinker://${RUN}/weights/\u0085x`, "a NEL (next line) character", "U+0085"),
  path(`tinker://${RUN}/weights/a\u2028b`, "a Unicode line separator", "U+2028"),
  path(`tinker://${RUN}/weights/\ud800`, "a lone surrogate", "surrogate"),
  path(`tinker://${RUN}/weights`, "two segments", "found 2"),
  path(`tinker://${RUN}/weights/0001/extra`, "four segments", "found 4"),
  path(`tinker://${RUN}/WEIGHTS/0001`, "an upper-case kind", "WEIGHTS"),
  path(`tinker://${RUN}/checkpoints/0001`, "an unknown kind", "checkpoints"),
  path(`tinker:///weights/0001`, "an empty run id", "is empty"),
  path(`tinker://${RUN}/weights/`, "an empty name", "is empty"),
  path(`tinker://${"a".repeat(10_240)}/weights/0001`, "a 10 KB run id", "longer than"),
  path(`tinker://${RUN}/weights/${"n".repeat(10_240)}`, "a 10 KB name", "longer than"),
  {
    name: "a number instead of a path",
    call: (rest) => rest.publishCheckpointFromTinkerPath(42 as Loose),
    error: TinkerPathError,
    names: "expected a string",
  },
  {
    name: "a bad path on getWeightsInfoByTinkerPath",
    call: (rest) => rest.getWeightsInfoByTinkerPath(`tinker://${RUN}/weights/a?b`),
    error: TinkerPathError,
    names: '"?"',
  },
  {
    name: "a bad path on setCheckpointTtlFromTinkerPath",
    call: (rest) => rest.setCheckpointTtlFromTinkerPath(`tinker://${RUN}/weights/..`, 60),
    error: TinkerPathError,
    names: "..",
  },
];

const id = (
  name: string,
  call: (rest: RestClient) => unknown,
  names: string | RegExp,
): Case => ({ name, call, error: InvalidArgumentError, names });

const IDS: Case[] = [
  id("an empty run id", (r) => r.getTrainingRun(""), "trainingRunId"),
  id("a run id of ..", (r) => r.getTrainingRun(".."), "trainingRunId"),
  id("a run id with a slash", (r) => r.getTrainingRun("a/../b"), '"/"'),
  id("a run id with ?", (r) => r.listCheckpoints("run?x=1"), '"?"'),
  id("a run id with #", (r) => r.listCheckpoints("run#x"), '"#"'),
  id("a percent-encoded run id", (r) => r.getTrainingRun("%2e%2e"), '"%"'),
  id("a run id with CRLF header injection", (r) => r.getTrainingRun("run\r\nX-Evil: 1"), "U+000D"),
  id("a run id with a leading space", (r) => r.getTrainingRun(" run"), "a space"),
  id("a number as run id", (r) => r.getTrainingRun(7 as Loose), "expected a string, got number"),
  id("null as run id", (r) => r.getTrainingRun(null as Loose), "got null"),
  id(
    "an object with toString as run id",
    (r) => r.getTrainingRun({ toString: () => RUN } as Loose),
    "got object",
  ),
  id(
    "a checkpoint id climbing out",
    (r) => r.deleteCheckpoint(RUN, "weights/../x"),
    "checkpointId",
  ),
  id("a checkpoint id of an unknown kind", (r) => r.deleteCheckpoint(RUN, "foo/bar"), "foo/bar"),
  id(
    "a checkpoint id with three parts",
    (r) => r.deleteCheckpoint(RUN, "weights/a/b"),
    "weights/a/b",
  ),
  id("a session id with an escape sequence", (r) => r.getSession("\x1b[2J"), "U+001B"),
  id("a sampler id with a lone surrogate", (r) => r.getSampler("s\udc00"), "surrogate"),
  id("a session id of 10 KB", (r) => r.getSession("s".repeat(10_240)), "longer than"),
  id(
    "an access scope that is not a choice",
    (r) => r.getTrainingRun(RUN, { accessScope: "all" as Loose }),
    "accessScope",
  ),
];

const num = (name: string, call: (rest: RestClient) => unknown, names: string): Case =>
  id(name, call, names);

const NUMBERS: Case[] = [
  num("a negative limit", (r) => r.listTrainingRuns({ limit: -1 }), "got -1"),
  num("a zero limit", (r) => r.listTrainingRuns({ limit: 0 }), "got 0"),
  num("a NaN limit", (r) => r.listTrainingRuns({ limit: NaN }), "got NaN"),
  num("an infinite limit", (r) => r.listUserCheckpoints({ limit: Infinity }), "got Infinity"),
  num("a limit of 2^53", (r) => r.listUserCheckpoints({ limit: 2 ** 53 }), "limit"),
  num("a limit of Number.MAX_VALUE", (r) => r.listSessions({ limit: Number.MAX_VALUE }), "limit"),
  num("a string limit", (r) => r.listTrainingRuns({ limit: "10" as Loose }), 'got "10"'),
  num("a fractional limit", (r) => r.listTrainingRuns({ limit: 1.5 }), "got 1.5"),
  num("a negative offset", (r) => r.listTrainingRuns({ offset: -1 }), "offset"),
  num("a NaN offset", (r) => r.listUserCheckpoints({ offset: NaN }), "offset"),
  num("a string offset", (r) => r.listSessions({ offset: "0" as Loose }), "offset"),
  num("an offset of 1e300", (r) => r.listTrainingRuns({ offset: 1e300 }), "offset"),
  num("a TTL of 0", (r) => r.setCheckpointTtlFromTinkerPath(GOOD_PATH, 0), "ttlSeconds"),
  num("a TTL of -1", (r) => r.setCheckpointTtlFromTinkerPath(GOOD_PATH, -1), "got -1"),
  num("a TTL of 1.5", (r) => r.setCheckpointTtlFromTinkerPath(GOOD_PATH, 1.5), "got 1.5"),
  num("a TTL of NaN", (r) => r.setCheckpointTtlFromTinkerPath(GOOD_PATH, NaN), "got NaN"),
  num(
    "a TTL given as a string",
    (r) => r.setCheckpointTtlFromTinkerPath(GOOD_PATH, "3600" as Loose),
    'got "3600"',
  ),
  num("a TTL of 2^60", (r) => r.setCheckpointTtlFromTinkerPath(GOOD_PATH, 2 ** 60), "ttlSeconds"),
  num(
    "an infinite TTL",
    (r) => r.setCheckpointTtlFromTinkerPath(GOOD_PATH, Infinity),
    "got Infinity",
  ),
  num(
    "an undefined TTL",
    (r) => r.setCheckpointTtlFromTinkerPath(GOOD_PATH, undefined as Loose),
    "ttlSeconds",
  ),
  num(
    "a negative TTL on copyWeights",
    (r) => r.copyWeights(GOOD_PATH, { destinationProjectId: "p", ttlSeconds: -5 }),
    "ttlSeconds",
  ),
  num("a negative per-call timeout", (r) => r.getTrainingRun(RUN, { timeoutMs: -1 }), "timeoutMs"),
];

const DATES: Case[] = [
  id(
    "February 30th",
    (r) => r.getBillingUsage("2026-02-30T00:00:00Z", "2026-03-01T00:00:00Z"),
    "2026-02-30",
  ),
  id(
    "hour 24",
    (r) => r.getBillingUsage("2026-07-13T24:00:00Z", "2026-07-14T01:00:00Z"),
    "startingOn",
  ),
  id(
    "a date-time without an offset",
    (r) => r.getBillingUsage("2026-07-13T00:00:00", "2026-07-14T00:00:00Z"),
    "startingOn",
  ),
  id("a bare date", (r) => r.getBillingUsage("2026-07-13", "2026-07-14T00:00:00Z"), "startingOn"),
  id(
    "an epoch number",
    (r) => r.getBillingUsage(1752364800 as Loose, new Date()),
    "got 1752364800",
  ),
  id("garbage", (r) => r.getBillingUsage("yesterday", "today"), '"yesterday"'),
  id("an invalid Date", (r) => r.getBillingUsage(new Date(NaN), new Date()), "startingOn"),
  id(
    "an offset of +25:00",
    (r) => r.getBillingUsage("2026-07-13T00:00:00+25:00", "2026-07-14T00:00:00Z"),
    "startingOn",
  ),
  id(
    "an escape sequence as the end date",
    (r) => r.getBillingUsage("2026-07-13T00:00:00Z", "\x1b]8;;http://evil\x07x"),
    "endingBefore",
  ),
  id("an audit day without zero padding", (r) => r.getAuditLog({ day: "2026-7-1" }), '"2026-7-1"'),
  id("an audit day of February 30th", (r) => r.getAuditLog({ day: "2026-02-30" }), "2026-02-30"),
  id("an audit day without dashes", (r) => r.getAuditLog({ day: "20260713" }), "day"),
  id("an audit day with a time", (r) => r.getAuditLog({ day: "2026-07-13T00:00:00Z" }), "day"),
  id("an audit day as a number", (r) => r.getAuditLog({ day: 20260713 as Loose }), "day"),
  id("an invalid Date as audit day", (r) => r.getAuditLog({ day: new Date("x") }), "day"),
  id(
    "an audit event type with shell text",
    (r) => r.getAuditLog({ eventType: "all; rm -rf /" as Loose }),
    "eventType",
  ),
];

const TEXT: Case[] = [
  id("a project id with NUL", (r) => r.listTrainingRuns({ projectId: "proj\u0000" }), "projectId"),
  id(
    "a project id with an escape sequence",
    (r) => r.assignSessionProject(SESSION, "proj\x1b[2J"),
    "projectId",
  ),
  id(
    "a project id with CRLF",
    (r) => r.assignSessionProject(SESSION, "proj\r\nX-Injected: 1"),
    "projectId",
  ),
  id(
    "a project id with a C1 CSI",
    (r) => r.assignSessionProject(SESSION, "proj\u009b2J"),
    "projectId",
  ),
  id("an empty project id", (r) => r.assignSessionProject(SESSION, ""), "projectId"),
  id(
    "a blank project id",
    (r) => r.getCurrentCheckpointStorageUsage({ projectId: "   " }),
    "projectId",
  ),
  id(
    "a copy destination with DEL",
    (r) => r.copyWeights(GOOD_PATH, { destinationProjectId: "p\u007f" }),
    "destinationProjectId",
  ),
  id(
    "a weights token with a newline",
    (r) => r.copyWeights(GOOD_PATH, { destinationProjectId: "p", weightsAccessToken: "t\nX: y" }),
    "weightsAccessToken",
  ),
];

const CASES = [...TINKER_PATHS, ...IDS, ...NUMBERS, ...DATES, ...TEXT];

Deno.test("the hostile-input table has at least 60 cases", () => {
  assert.ok(CASES.length >= 60, `${CASES.length} cases`);
});

Deno.test("every bad argument is refused before anything is sent, naming the input", async (t) => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, ...FAST });
  for (const c of CASES) {
    await t.step(`${c.name} is refused with ${c.error.name}`, async () => {
      await fake.clearLog();
      const result = await outcome(() => c.call(rest));
      assert.equal(fake.log.length, 0, "no request was sent");
      assert.ok(!result.ok, "the call was refused");
      const error = result.error as Error;
      assert.ok(error instanceof c.error, `expected ${c.error.name}, got ${error}`);
      if (typeof c.names === "string") assert.ok(error.message.includes(c.names), error.message);
      else assert.match(error.message, c.names);
      assert.doesNotMatch(error.message, UNSAFE_CHARS, "the message carries no raw control text");
      assert.ok(error.message.length < 400, "the message stays short");
    });
  }
  rest.close();
});

Deno.test("inputs at the edge of valid are accepted and sent in canonical form", async (t) => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, ...FAST });
  await t.step("an RFC 3339 offset is converted to UTC", async () => {
    await rest.getBillingUsage("2026-07-13T02:00:00+02:00", new Date("2026-07-14T00:00:00Z"));
    const sent = fake.log.at(-1)!;
    assert.deepEqual(sent.query, [
      ["starting_on", "2026-07-13T00:00:00Z"],
      ["ending_before", "2026-07-14T00:00:00Z"],
    ]);
  });
  await t.step("a Date as audit day is its UTC day", async () => {
    await rest.getAuditLog({ day: new Date("2026-07-13T23:30:00-05:00") });
    assert.deepEqual(fake.log.at(-1)!.query, [["event_type", "all"], ["day", "2026-07-14"]]);
  });
  await t.step("a non-ASCII checkpoint name is percent-encoded as UTF-8", async () => {
    await outcome(() => rest.deleteCheckpoint(RUN, "weights/caf\u00e9"));
    assert.equal(
      fake.log.at(-1)!.path,
      `/api/v1/training_runs/${RUN}/checkpoints/weights/caf%C3%A9`,
    );
  });
  rest.close();
});

Deno.test("parseTinkerPath quotes a hostile input inertly and cuts it at 120 characters", () => {
  const hostile = `tinker://${"\x1b[31m".repeat(50)}/weights/x`;
  const error = (() => {
    try {
      parseTinkerPath(hostile);
    } catch (e) {
      return e as TinkerPathError;
    }
    throw new Error("accepted");
  })();
  assert.equal(error.input, hostile);
  assert.doesNotMatch(error.message, UNSAFE_CHARS);
  assert.ok(error.message.includes("\\u001b[31m"));
  assert.ok(error.message.length < 1_000);
});

// ---- the CLI: malicious server data ------------------------------------------------

const ESCAPES =
  "\x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\rOVERWRITTEN\u009b31m\u202eRTL";

Deno.test("terminal escapes in server data never reach the CLI's output raw", async (t) => {
  await using fake = await startFakeTinker();
  const state = fake.state!;
  const run = state.runs.get(RUN)!;
  run.base_model = `Qwen${ESCAPES}`;
  run.user_metadata = { [`k${ESCAPES}`]: `v${ESCAPES}` };
  state.samplers.get(FAKE_IDS.samplerId)!.base_model = `m${ESCAPES}`;
  const commands: string[][] = [
    ["run", "list", "--limit", "50"],
    ["run", "info", RUN],
    ["checkpoint", "list", "--run-id", RUN],
    ["sampler", "info", FAKE_IDS.samplerId],
    ["-f", "json", "run", "info", RUN],
    ["-f", "jsonl", "run", "list", "--limit", "50"],
  ];
  for (const args of commands) {
    await t.step(`tinker ${args.join(" ")} prints no raw control character`, async () => {
      const got = await runCli(args, fake.url, fake.apiKey);
      assert.equal(got.code, 0, got.err);
      assert.doesNotMatch(got.out, UNSAFE_CHARS, "stdout");
      assert.doesNotMatch(got.err, UNSAFE_CHARS, "stderr");
    });
  }
  await t.step("an error detail with escapes is printed inertly", async () => {
    await fake.inject({
      path: `/api/v1/training_runs/${RUN}`,
      status: 404,
      body: { detail: `not found${ESCAPES}` },
    });
    const got = await runCli(["run", "info", RUN], fake.url, fake.apiKey);
    assert.equal(got.code, 4);
    assert.doesNotMatch(got.out + got.err, UNSAFE_CHARS);
    assert.match(got.err, /not found/);
  });
});

// ---- the CLI: malicious archives ---------------------------------------------------

Deno.test("a malicious archive is refused and leaves nothing behind", async (t) => {
  const { tarBytes } = await import("../cli/_tar.ts");
  // The archive route: a server without session routes (weights/ falls back to it).
  await using fake = await startFakeTinker({ sessionRoutes: false });
  let archive: Uint8Array = new Uint8Array();
  await using storage = await startRawServer((_req, socket) =>
    respond(socket, 200, { "content-type": "application/x-tar" }, archive)
  );
  const root = await Deno.makeTempDir({ prefix: "tinker-hostile-" });
  const out = `${root}/out`;
  const file = (name: string, text = "pwned") => ({
    name,
    data: new TextEncoder().encode(text),
  });
  const cases: { name: string; entries: Parameters<typeof tarBytes>[0] }[] = [
    { name: "a ../ path", entries: [file("ok.txt"), file("../evil.txt")] },
    { name: "a nested ../../ path", entries: [file("a/../../evil.txt")] },
    { name: "an absolute path", entries: [file(`${root}/evil.txt`)] },
    {
      name: "a symlink out of the directory",
      entries: [{ name: "link", type: "2", linkname: root }],
    },
    {
      name: "a file written through a symlink",
      entries: [{ name: "link", type: "2", linkname: ".." }, file("link/evil.txt")],
    },
    {
      name: "a hard link to /etc/passwd",
      entries: [{ name: "pw", type: "1", linkname: "/etc/passwd" }],
    },
    { name: "a character device", entries: [{ name: "dev", type: "3" }] },
    { name: "a FIFO", entries: [{ name: "fifo", type: "6" }] },
    {
      name: "a GNU long name climbing out",
      entries: [{ ...file(`${"d/".repeat(60)}${"../".repeat(62)}evil.txt`), longName: "gnu" }],
    },
    {
      name: "a pax path climbing out",
      entries: [{ ...file(`${"p".repeat(120)}/../../evil.txt`), longName: "pax" }],
    },
  ];
  try {
    for (const c of cases) {
      await t.step(`${c.name}: refused, nothing extracted anywhere`, async () => {
        await fake.reset();
        archive = tarBytes(c.entries);
        await fake.inject({
          path: `/api/v1/training_runs/${RUN}/checkpoints/weights/000010/archive`,
          status: 302,
          headers: { location: `${storage.url}/evil.tar` },
          body: "",
        });
        const got = await runCli(
          ["checkpoint", "download", GOOD_PATH, "-o", out],
          fake.url,
          fake.apiKey,
        );
        assert.equal(got.code, 7, got.err);
        assert.match(got.err, /[Uu]nsafe|[Rr]efus|[Uu]nsupported/);
        assert.deepEqual(await listTree(root), ["out/"], "only the empty output directory");
        assert.doesNotMatch(got.err, UNSAFE_CHARS);
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
