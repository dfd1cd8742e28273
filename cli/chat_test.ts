// `tinker chat` and `tinker model list --sampleable` end to end against the
// fake server's OpenAI-compatible endpoint.

import assert from "node:assert/strict";
import { FAKE_IDS, type FakeTinkerOptions, startFakeTinker } from "../testing/mod.ts";
import { answerTokens, modelTable, type OaiSampling } from "../testing/_oai.ts";
import type { FakeState } from "../testing/_state.ts";
import { main } from "./_entry.ts";
import { collectingGarbage } from "../tests/_gc.ts";

const CKPT = FAKE_IDS.publicCheckpointPath;

/** Runs the CLI against a fresh fake; `onOut` sees each stdout write as it happens. */
async function run(
  args: string[],
  options: {
    fake?: FakeTinkerOptions;
    stdin?: string;
    signal?: AbortSignal;
    onOut?: (text: string) => void;
  } = {},
) {
  await using fake = await startFakeTinker(options.fake);
  const writes: string[] = [];
  let err = "";
  const code = await main(args, {
    env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
    stdin: options.stdin ?? "",
    signal: options.signal,
    stdout: (text) => {
      writes.push(text);
      options.onOut?.(text);
    },
    stderr: (text) => (err += text),
    isTTY: false,
    columns: 100,
  });
  const state = fake.state!;
  return {
    code,
    out: writes.join(""),
    writes,
    err,
    log: [...fake.log],
    apiKey: fake.apiKey,
    state,
  };
}

/** The text the fake's own bigram model answers `prompt` with from `model`. */
function expected(state: FakeState, model: string, prompt: string, params: OaiSampling = {}) {
  return answerTokens(modelTable(state, model)!, model, prompt, params).pieces;
}

Deno.test("tinker chat streams a checkpoint's answer to stdout, token by token", async () => {
  const { code, out, writes, err, log, apiKey, state } = await run(["chat", CKPT, "hello"]);
  assert.equal(code, 0, err);
  assert.equal(out, `${expected(state, CKPT, "hello").join("")}\n`);
  assert.ok(writes.length > 10, "written as the tokens arrived, not at the end");
  assert.equal(log.length, 1);
  assert.equal(log[0]!.path, "/oai/api/v1/chat/completions");
  assert.equal(log[0]!.headers["authorization"], `Bearer ${apiKey}`);
  assert.deepEqual(log[0]!.json, {
    model: CKPT,
    messages: [{ role: "user", content: "hello" }],
    stream: true,
  });
  assert.ok(!out.includes(apiKey) && !err.includes(apiKey));
});

Deno.test("tinker --verbose chat logs the request, never the key", async () => {
  const { code, err, apiKey } = await run(["--verbose", "chat", CKPT, "hello"]);
  assert.equal(code, 0);
  assert.match(
    err,
    /\[http\] POST http:\/\/127\.0\.0\.1:\d+\/oai\/api\/v1\/chat\/completions -> 200/,
  );
  assert.ok(!err.includes(apiKey));
});

Deno.test("tinker chat reads the prompt from stdin and sends --system, --max-tokens, --temperature", async () => {
  const { code, out, log, state } = await run(
    ["chat", "Qwen/Qwen3-8B", "--system", "Be brief.", "--max-tokens", "4", "--temperature", "0.3"],
    { stdin: "first line\nsecond line\n" },
  );
  assert.equal(code, 0);
  assert.equal(
    out,
    `${
      expected(state, "Qwen/Qwen3-8B", "first line\nsecond line", {
        max_tokens: 4,
        temperature: 0.3,
      }).join("")
    }\n`,
  );
  assert.deepEqual(log[0]!.json, {
    model: "Qwen/Qwen3-8B",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "first line\nsecond line" },
    ],
    max_tokens: 4,
    temperature: 0.3,
    stream: true,
  });
});

Deno.test("tinker -f json chat prints the final response object; -f jsonl each chunk", async () => {
  const json = await run(["-f", "json", "chat", CKPT, "hello"]);
  assert.equal(json.code, 0);
  const answer = JSON.parse(json.out);
  assert.equal(answer.object, "chat.completion");
  assert.equal(answer.choices[0].message.content, expected(json.state, CKPT, "hello").join(""));
  assert.equal((json.log[0]!.json as { stream?: boolean }).stream, undefined);

  const jsonl = await run(["-f", "jsonl", "chat", CKPT, "hello"]);
  assert.equal(jsonl.code, 0);
  const chunks = jsonl.out.trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(chunks.length, expected(jsonl.state, CKPT, "hello").length + 2);
  assert.ok(chunks.every((c) => c.object === "chat.completion.chunk"));
});

Deno.test("tinker chat refuses bad input before sending anything", async () => {
  const cases: [string[], number, RegExp][] = [
    [["chat", FAKE_IDS.checkpointPath, "hi"], 6, /is not a sampler checkpoint/],
    [["chat", "tinker://x/sampler_weights", "hi"], 6, /expected 3 segments/],
    [["chat", "Qwen/Qwen3-8B", "hi", "--temperature", "hot"], 6, /Invalid --temperature "hot"/],
    [["chat", "Qwen/Qwen3-8B"], 6, /The prompt is empty/],
    [["chat"], 2, /MODEL/],
  ];
  for (const [args, want, message] of cases) {
    const { code, err, log } = await run(args);
    assert.equal(code, want, `${args.join(" ")}: ${err}`);
    assert.match(err, message);
    assert.equal(log.length, 0);
  }
});

Deno.test("tinker chat exits 4 for a model the server does not know", async () => {
  const missing = await run(["chat", "Nope/Nothing", "hi"]);
  assert.equal(missing.code, 4);
  assert.match(missing.err, /The model Nope\/Nothing does not exist/);
});

Deno.test("Ctrl-C stops the stream cleanly: exit 130, the line ended", async () => {
  const controller = new AbortController();
  let pieces = 0;
  const { code, out, err, state } = await run(["chat", CKPT, "hello"], {
    fake: { tokenDelayMs: 20 },
    signal: controller.signal,
    onOut: () => {
      if (++pieces === 3) controller.abort();
    },
  });
  assert.equal(code, 130);
  assert.ok(out.length > 0 && out.length < expected(state, CKPT, "hello").join("").length);
  assert.ok(err.startsWith("\n"), "the interrupted line is ended before the message");
});

Deno.test("tinker chat --idle-timeout ends a silent stream: exit 5, the limit named", async () => {
  // Collections while the CLI waits: the runtime's fetch follows its signal weakly.
  using _gc = collectingGarbage();
  const { code, out, err, log } = await run(
    ["chat", CKPT, "hello", "--max-tokens", "1", "--idle-timeout", "1"],
    { fake: { tokenDelayMs: 3_000 } },
  );
  assert.equal(code, 5, err);
  assert.equal(out, "", "no token arrived");
  assert.match(
    err,
    /^Error: Request timeout: the server sent nothing for 1 s \(--idle-timeout\)\n/,
  );
  assert.match(err, /Details: No data for 1000 ms while reading the response stream/);
  assert.equal(log.length, 1, "a started stream is never sent again");
});

Deno.test("tinker -f json chat --idle-timeout bounds the whole answer; 0 is refused", async () => {
  const slow = { path: "/oai/api/v1/chat/completions", delayMs: 3_000 };
  await using fake = await startFakeTinker();
  await fake.inject(slow);
  const env = { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url };
  let err = "";
  const io = { env, stdin: "", stdout: () => {}, stderr: (text: string) => void (err += text) };
  const code = await main(
    ["-f", "json", "--max-retries", "0", "chat", CKPT, "hello", "--idle-timeout", "1"],
    io,
  );
  assert.equal(code, 5, err);
  assert.match(err, /Request timeout: no answer within 1 s \(--idle-timeout\)/);
  assert.match(
    err,
    /Details: Request timed out after 1000 ms \(POST \/oai\/api\/v1\/chat\/completions\)/,
  );
  err = "";
  assert.equal(await main(["chat", CKPT, "hello", "--idle-timeout", "0"], io), 2);
  assert.match(err, /idle-timeout/);
});

Deno.test("tinker model list --sampleable lists /models; a substring filters it", async () => {
  const all = await run(["-f", "json", "model", "list", "--sampleable"]);
  assert.equal(all.code, 0);
  const ids = JSON.parse(all.out).models.map((m: { id: string }) => m.id);
  assert.ok(ids.includes("Qwen/Qwen3-8B"));
  assert.equal(all.log[0]!.path, "/oai/api/v1/models");
  const some = await run(["model", "list", "--sampleable", "llama"]);
  assert.equal(some.code, 0);
  assert.match(some.out, /meta-llama\/Llama-3\.2-1B/);
  assert.doesNotMatch(some.out, /Qwen/);
  const none = await run(["model", "list", "--sampleable", "zzz"]);
  assert.equal(none.code, 4);
  // Without the flag: the server capabilities, as the official CLI.
  const plain = await run(["model", "list"]);
  assert.equal(plain.log[0]!.path, "/api/v1/client/config");
});
