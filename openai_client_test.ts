import assert from "node:assert/strict";
import { caught, rejection } from "./tests/_assert.ts";
import { collectingGarbage } from "./tests/_gc.ts";
import {
  ApiConnectionError,
  ApiError,
  ApiResponseValidationError,
  ApiTimeoutError,
  ApiUserAbortError,
  AuthenticationError,
  type ClientOptions,
  InternalServerError,
  InvalidArgumentError,
  NotFoundError,
  TinkerError,
  TinkerPathError,
} from "./mod.ts";
import { type ChatCompletionChunk, checkModel, OpenAIClient } from "./openai_client.ts";
import {
  FAKE_IDS,
  type FakeTinker,
  type FakeTinkerOptions,
  spawnFakeTinker,
  startFakeTinker,
} from "./testing/mod.ts";
import { answerTokens, modelTable, type OaiSampling } from "./testing/_oai.ts";

const CHECKPOINT = FAKE_IDS.publicCheckpointPath; // tinker://…/sampler_weights/000010
const hello = { role: "user", content: "hello" };

/** The answer the fake's own bigram model gives `prompt` from `model`. */
function expected(fake: FakeTinker, model: string, prompt: string, params: OaiSampling = {}) {
  return answerTokens(modelTable(fake.state!, model)!, model, prompt, params);
}

/** A fake server and a client for it, with fast retries. */
async function setup(
  fakeOptions: FakeTinkerOptions = {},
  clientOptions: ClientOptions = {},
): Promise<{ fake: FakeTinker; oai: OpenAIClient } & AsyncDisposable> {
  const fake = await startFakeTinker(fakeOptions);
  const oai = new OpenAIClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    initialRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    ...clientOptions,
  });
  return {
    fake,
    oai,
    [Symbol.asyncDispose]: async () => {
      oai.close();
      await fake.close();
    },
  };
}

Deno.test("chatCompletion posts to /oai/api/v1 with the key as a Bearer token and no bootstrap", async () => {
  await using env = await setup();
  const { fake, oai } = env;
  const answer = await oai.chatCompletion({
    model: CHECKPOINT,
    messages: [{ role: "system", content: "Be brief." }, hello],
    max_tokens: 200,
    temperature: 0.5,
    seed: 7,
  });
  assert.equal(answer.object, "chat.completion");
  assert.equal(answer.model, CHECKPOINT);
  const want = expected(fake, CHECKPOINT, "hello", { max_tokens: 200, temperature: 0.5, seed: 7 });
  assert.equal(answer.choices[0]!.message.content, want.pieces.join(""));
  assert.equal(answer.choices[0]!.finish_reason, want.finish);
  assert.equal(
    fake.log.length,
    1,
    "one request: the OpenAI-compatible endpoint needs no bootstrap",
  );
  const [req] = fake.log;
  assert.equal(`${req!.method} ${req!.path}`, "POST /oai/api/v1/chat/completions");
  assert.equal(req!.headers["authorization"], `Bearer ${fake.apiKey}`);
  assert.equal(req!.headers["x-api-key"], undefined);
  assert.equal(req!.headers["accept"], "application/json");
  assert.deepEqual(req!.json, {
    model: CHECKPOINT,
    messages: [{ role: "system", content: "Be brief." }, hello],
    max_tokens: 200,
    temperature: 0.5,
    seed: 7,
  });
});

Deno.test("streamChatCompletion yields chunks as they come; textDeltas joins to the same answer", async () => {
  await using env = await setup();
  const { fake, oai } = env;
  const request = { model: CHECKPOINT, messages: [hello] };
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of oai.streamChatCompletion(request)) chunks.push(chunk);
  const want = expected(fake, CHECKPOINT, "hello");
  const tokens = want.pieces;
  assert.equal(chunks.length, tokens.length + 2, "a role chunk, one per token, a finish chunk");
  assert.equal(chunks[0]!.choices[0]!.delta.role, "assistant");
  assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, want.finish);
  const [req] = fake.log;
  assert.equal(req!.headers["accept"], "text/event-stream");
  assert.equal(req!.headers["authorization"], `Bearer ${fake.apiKey}`);
  assert.deepEqual(req!.json, { ...request, stream: true });

  let text = "";
  for await (const piece of oai.streamChatCompletion(request).textDeltas()) {
    assert.notEqual(piece, "");
    text += piece;
  }
  assert.equal(text, tokens.join(""));
  const whole = await oai.chatCompletion(request);
  assert.equal(whole.choices[0]!.message.content, text);
});

Deno.test("max_tokens cuts the answer with finish_reason length, streamed or not", async () => {
  await using env = await setup();
  const request = { model: "Qwen/Qwen3-8B", messages: [hello], max_tokens: 3 };
  const whole = await env.oai.chatCompletion(request);
  assert.equal(whole.choices[0]!.finish_reason, "length");
  assert.equal(whole.usage?.completion_tokens, 3);
  const text = await env.oai.streamChatCompletion(request).text();
  assert.equal(text, whole.choices[0]!.message.content);
});

Deno.test("text completions, streamed and not, and the model list", async () => {
  await using env = await setup();
  const { oai } = env;
  const request = { model: "meta-llama/Llama-3.2-1B", prompt: "Once upon a time" };
  const whole = await oai.completion(request);
  assert.equal(whole.object, "text_completion");
  const streamed = await oai.streamCompletion(request).text();
  assert.equal(streamed, whole.choices[0]!.text);
  assert.equal(streamed, expected(env.fake, request.model, request.prompt).pieces.join(""));
  const models = await oai.listModels();
  assert.ok(models.data.some((m) => m.id === "Qwen/Qwen3-8B"));
  assert.equal(env.fake.log.at(-1)!.path, "/oai/api/v1/models");
  assert.equal(env.fake.log.at(-1)!.headers["authorization"], `Bearer ${env.fake.apiKey}`);
});

Deno.test({
  name: "a non-streamed completion also blocks with .result()",
  // A server in another process (Deno here; Bun's .result() path: tests/sync_bun.ts).
  ignore: typeof Deno.permissions === "undefined",
  fn: async () => {
    await using fake = await spawnFakeTinker();
    using oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    const answer = oai.chatCompletion({ model: CHECKPOINT, messages: [hello] }).result();
    const awaited = await oai.chatCompletion({ model: CHECKPOINT, messages: [hello] });
    assert.ok(answer.choices[0]!.message.content?.length);
    assert.equal(answer.choices[0]!.message.content, awaited.choices[0]!.message.content);
    const [req] = await fake.requests();
    assert.equal(req!.headers["authorization"], `Bearer ${fake.apiKey}`);
  },
});

Deno.test("the model is a base id, a sampler checkpoint, or <base id>;<checkpoint>", async (t) => {
  await t.step("valid forms are sent as they are", async () => {
    await using env = await setup();
    const model = `Qwen/Qwen3-8B;${CHECKPOINT}`;
    const answer = await env.oai.chatCompletion({ model, messages: [hello] });
    assert.equal(answer.model, model);
    assert.equal((env.fake.log[0]!.json as { model: string }).model, model);
  });
  await t.step("bad ones throw before anything is sent", () => {
    const oai = new OpenAIClient({ baseUrl: "http://127.0.0.1:9", apiKey: "tml-x" });
    const cases: [unknown, abstract new (...args: never[]) => TinkerError, RegExp][] = [
      ["", InvalidArgumentError, /model: it is empty/],
      [42, InvalidArgumentError, /expected a string, got number/],
      ["Qwen 3", InvalidArgumentError, /whitespace/],
      [FAKE_IDS.checkpointPath, InvalidArgumentError, /is not a sampler checkpoint/],
      ["tinker://run-1/sampler_weights", TinkerPathError, /expected 3 segments/],
      [`;${CHECKPOINT}`, InvalidArgumentError, /base model id before the ";"/],
      ["Qwen/Qwen3-8B;Qwen/Qwen3-8B", InvalidArgumentError, /after the ";" comes a tinker/],
      ["https://example.com/model", InvalidArgumentError, /is a URL/],
    ];
    for (const [model, Class, message] of cases) {
      const error = caught(() =>
        oai.streamChatCompletion({ model: model as string, messages: [hello] })
      );
      assert.ok(error instanceof Class, `${String(model)}: ${error}`);
      assert.match((error as Error).message, message);
    }
    assert.equal(checkModel("Qwen/Qwen3-8B"), "Qwen/Qwen3-8B");
  });
  await t.step("other bad arguments too", () => {
    const oai = new OpenAIClient({ baseUrl: "http://127.0.0.1:9", apiKey: "tml-x" });
    const model = "Qwen/Qwen3-8B";
    const bad: [() => unknown, RegExp][] = [
      [() => oai.chatCompletion({ model, messages: [] }), /messages: expected a non-empty array/],
      [() => oai.chatCompletion({ model, messages: [hello], max_tokens: 0 }), /max_tokens/],
      [() => oai.chatCompletion({ model, messages: [hello], temperature: -1 }), /temperature/],
      [
        () => oai.chatCompletion({ model, messages: [hello], temperature: NaN }),
        /temperature: expected a number of at least 0, got NaN$/,
      ],
      [() => oai.chatCompletion({ model, messages: [hello], stream: true }), /leave it out/],
      [
        () => oai.chatCompletion({ model, messages: [{ role: "user", content: 3 }] } as never),
        /messages\[0\]\.content/,
      ],
      [() => oai.completion({ model, prompt: [] }), /prompt: expected a string/],
      [() => oai.chatCompletion({ model, messages: [hello] }, { timeoutMs: 0 }), /timeoutMs/],
    ];
    for (const [call, message] of bad) {
      const error = caught(call);
      assert.ok(error instanceof InvalidArgumentError, String(error));
      assert.match(error.message, message);
    }
  });
  await t.step("a model the server does not know is its NotFoundError", async () => {
    await using env = await setup();
    const error = await rejection(
      env.oai.chatCompletion({ model: "Nope/Nothing", messages: [hello] }),
    );
    assert.ok(error instanceof NotFoundError);
    assert.match(
      error.message,
      /404 \(POST \/oai\/api\/v1\/chat\/completions\): The model Nope\/Nothing does not exist/,
    );
  });
});

Deno.test("a wrong key is an AuthenticationError that never shows the key", async () => {
  await using env = await setup({}, { apiKey: "tml-wrong-key-1234567890" });
  for (
    const attempt of [
      () => env.oai.chatCompletion({ model: CHECKPOINT, messages: [hello] }),
      () => env.oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] }).text(),
    ]
  ) {
    const error = await rejection(attempt());
    assert.ok(error instanceof AuthenticationError);
    assert.match(error.message, /Authorization: Bearer/);
    assert.doesNotMatch(`${error.message} ${JSON.stringify(error.body)}`, /tml-wrong-key/);
  }
});

Deno.test("429 and 503 before the answer starts are retried, streamed or not", async () => {
  await using env = await setup();
  const { fake, oai } = env;
  const path = /^\/oai\/api\/v1\/chat\/completions$/;
  await fake.inject({ path, status: 429, headers: { "retry-after-ms": "1" } });
  await fake.inject({ path, status: 503 });
  const text = await oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] }).text();
  assert.equal(text, expected(fake, CHECKPOINT, "hello").pieces.join(""));
  assert.deepEqual(fake.log.map((r) => r.status), [429, 503, 200]);
  await fake.inject({ path, status: 503, times: 3 });
  const limited = new OpenAIClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    maxRetries: 2,
    initialRetryDelayMs: 1,
  });
  const error = await rejection(limited.chatCompletion({ model: CHECKPOINT, messages: [hello] }));
  assert.ok(error instanceof InternalServerError);
  assert.equal(error.status, 503);
});

Deno.test("a stream cut mid-way is an ApiConnectionError, never retried", async () => {
  await using env = await setup({ tokenDelayMs: 5 }); // Tokens arrive over time, as from a model.
  const { fake, oai } = env;
  await fake.inject({ path: /chat\/completions$/, truncate: 700 });
  const seen: string[] = [];
  const error = await rejection((async () => {
    for await (
      const piece of oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] }).textDeltas()
    ) {
      seen.push(piece);
    }
  })());
  assert.ok(error instanceof ApiConnectionError, String(error));
  assert.ok(seen.length > 0, "the tokens before the cut arrived");
  assert.equal(fake.log.length, 1, "a started stream is never sent again");
});

Deno.test("a stream that ends cleanly without [DONE] is an error, not a silent end", async () => {
  await using env = await setup();
  const { fake, oai } = env;
  const chunk = { choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] };
  for (
    const body of [
      `data: ${JSON.stringify(chunk)}\n\n`,
      `data: ${JSON.stringify(chunk)}\n\ndata: [DO`,
    ]
  ) {
    await fake.inject({
      path: /chat\/completions$/,
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body,
    });
    const seen: string[] = [];
    const error = await rejection((async () => {
      for await (
        const piece of oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] })
          .textDeltas()
      ) {
        seen.push(piece);
      }
    })());
    assert.ok(error instanceof ApiConnectionError);
    assert.match(error.message, /ended before \[DONE\].*after 1 chunks.*incomplete/);
    assert.deepEqual(seen, ["Hi"]);
  }
});

Deno.test("bad streams: not event-stream, an event not JSON or of the wrong shape, an error event", async () => {
  await using env = await setup();
  const { fake, oai } = env;
  const cases: [string, abstract new (...args: never[]) => ApiError, RegExp][] = [
    ["data: {not json\n\n", ApiResponseValidationError, /Stream event 1 is not JSON/],
    [
      'data: {"choices": "x"}\n\n',
      ApiResponseValidationError,
      /Response field "choices" must be an array.*ChatCompletionChunk, stream event 1/,
    ],
    [
      'data: {"error": {"message": "the sampler crashed"}}\n\n',
      ApiError,
      /error in the stream after 0 chunks .*: the sampler crashed/,
    ],
  ];
  await fake.inject({ path: /chat\/completions$/, status: 200, body: { choices: [] } });
  const json = await rejection(
    oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] }).text(),
  );
  assert.ok(json instanceof ApiResponseValidationError);
  assert.match(json.message, /got content-type application\/json/);
  for (const [body, Class, message] of cases) {
    await fake.inject({
      path: /chat\/completions$/,
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body: `${body}data: [DONE]\n\n`,
    });
    const error = await rejection(
      env.oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] }).text(),
    );
    assert.ok(error instanceof Class, String(error));
    assert.match((error as Error).message, message);
  }
});

Deno.test("an error event that echoes the key is scrubbed like every other error", async () => {
  await using env = await setup();
  const { fake, oai } = env;
  const echo = { error: { message: `rejected key ${fake.apiKey}` } };
  await fake.inject({
    path: /chat\/completions$/,
    status: 200,
    headers: { "content-type": "text/event-stream" },
    body: `data: ${JSON.stringify(echo)}\n\ndata: [DONE]\n\n`,
  });
  const error = await rejection(
    oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] }).text(),
  );
  assert.ok(error instanceof ApiError);
  const everything = `${error.message} ${JSON.stringify(error.body)} ${String(error)}`;
  assert.ok(!everything.includes(fake.apiKey), everything);
  assert.match(error.message, /rejected key \[redacted\]/);
});

Deno.test("the signal stops a stream in the middle", async () => {
  await using env = await setup({ tokenDelayMs: 20 });
  const controller = new AbortController();
  const seen: string[] = [];
  const error = await rejection((async () => {
    const stream = env.oai.streamChatCompletion(
      { model: CHECKPOINT, messages: [hello] },
      { signal: controller.signal },
    );
    for await (const piece of stream.textDeltas()) {
      seen.push(piece);
      if (seen.length === 2) controller.abort();
    }
  })());
  assert.ok(error instanceof ApiUserAbortError, String(error));
  assert.equal(seen.length, 2);
});

Deno.test("leaving the loop early closes the stream; the client stays usable", async () => {
  await using env = await setup({ tokenDelayMs: 20 });
  for await (
    const _chunk of env.oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] })
  ) {
    break;
  }
  const text = await env.oai.streamCompletion({
    model: "Qwen/Qwen3-8B",
    prompt: "x",
    max_tokens: 2,
  })
    .text();
  assert.equal(text, expected(env.fake, "Qwen/Qwen3-8B", "x", { max_tokens: 2 }).pieces.join(""));
  assert.equal(text.length, 2, "two tokens of one character each");
});

Deno.test("a stream whose next chunk takes longer than timeoutMs is an ApiTimeoutError", async () => {
  await using env = await setup({ tokenDelayMs: 1_000 }, { timeoutMs: 100 });
  const error = await rejection(
    env.oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] }).text(),
  );
  assert.ok(error instanceof ApiTimeoutError, String(error));
  assert.match(error.message, /No data for 100 ms while reading the response stream/);
  assert.equal(env.fake.log.length, 1, "not retried once the answer started");
});

Deno.test("timeoutMs still ends a silent stream after a garbage collection, per call too", async () => {
  // The runtime's fetch follows its signal weakly: once the request is
  // collected, only the client's own watch on the body ends the wait.
  await using env = await setup({ tokenDelayMs: 2_000 });
  using _gc = collectingGarbage();
  const seen: string[] = [];
  const error = await rejection((async () => {
    const request = { model: CHECKPOINT, messages: [hello], max_tokens: 2 };
    for await (const chunk of env.oai.streamChatCompletion(request, { timeoutMs: 200 })) {
      seen.push(chunk.choices[0]?.delta.role ?? "");
    }
  })());
  assert.ok(error instanceof ApiTimeoutError, String(error));
  assert.match(
    error.message,
    /No data for 200 ms while reading the response stream, after \d+ bytes \(POST \/oai\/api\/v1\/chat\/completions\)/,
  );
  assert.deepEqual(seen, ["assistant"], "the first chunk came, the next one never did");
  assert.equal(env.fake.log.length, 1, "not retried once the answer started");
});

Deno.test("the signal still stops a silent stream after a garbage collection", async () => {
  await using env = await setup({ tokenDelayMs: 2_000 });
  using _gc = collectingGarbage();
  const controller = new AbortController();
  const error = await rejection((async () => {
    const stream = env.oai.streamChatCompletion(
      { model: CHECKPOINT, messages: [hello], max_tokens: 2 },
      { signal: controller.signal },
    );
    for await (const _chunk of stream) setTimeout(() => controller.abort(), 100);
  })());
  assert.ok(error instanceof ApiUserAbortError, String(error));
});

Deno.test("a stream is read once", async () => {
  await using env = await setup();
  const stream = env.oai.streamChatCompletion({ model: CHECKPOINT, messages: [hello] });
  await stream.text();
  const error = await rejection(stream.text());
  assert.ok(error instanceof TinkerError);
  assert.match(error.message, /read already/);
});

Deno.test("baseUrl is the Tinker base URL with /oai/api/v1; the key comes from TINKER_API_KEY", async () => {
  await using fake = await startFakeTinker();
  const saved = [Deno.env.get("TINKER_API_KEY"), Deno.env.get("TINKER_BASE_URL")];
  Deno.env.set("TINKER_API_KEY", fake.apiKey);
  Deno.env.set("TINKER_BASE_URL", `${fake.url}/`);
  try {
    const oai = new OpenAIClient();
    assert.equal(oai.baseUrl, `${fake.url}/oai/api/v1`);
    const models = await oai.listModels();
    assert.ok(models.data.length > 0);
  } finally {
    for (const [name, value] of [["TINKER_API_KEY", saved[0]], ["TINKER_BASE_URL", saved[1]]]) {
      if (value === undefined) Deno.env.delete(name!);
      else Deno.env.set(name!, value);
    }
  }
});

Deno.test({
  name: "a REST-only import loads none of the OpenAI-compatible client",
  ignore: typeof Deno.Command !== "function" || typeof Deno.execPath !== "function",
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", new URL("./mod.ts", import.meta.url).href],
      stdout: "piped",
      stderr: "null",
    }).output();
    const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string }[];
    };
    const files = graph.modules.map((m) => m.specifier.split("/").pop());
    assert.ok(files.includes("rest_client.ts"));
    for (const file of ["openai_client.ts", "_sse.ts", "_stream_body.ts"]) {
      assert.ok(!files.includes(file), `mod.ts reaches ${file}`);
    }
  },
});
