// The edge example end to end: HTTP into the `Deno.serve` handler, which
// streams the fake server's answer back as text. When the machine has a
// Chromium, once more through a real headless browser.

import assert from "node:assert/strict";
import { OpenAIClient } from "../openai_client.ts";
import { FAKE_IDS, type FakeTinker, startFakeTinker } from "../testing/mod.ts";
import { answerTokens, modelTable } from "../testing/_oai.ts";
import { createChatHandler } from "./edge_chat.ts";

const MODEL = FAKE_IDS.publicCheckpointPath;

/** What the fake's own bigram model answers `prompt` with (the handler asks for 512 tokens at most). */
const expected = (fake: FakeTinker, prompt: string) =>
  answerTokens(modelTable(fake.state!, MODEL)!, MODEL, prompt, { max_tokens: 512 }).pieces.join("");

/** The fake Tinker, and the edge handler served on a free loopback port. */
async function setup(tokenDelayMs = 0, fetchImpl?: typeof fetch) {
  const fake: FakeTinker = await startFakeTinker({ tokenDelayMs });
  const client = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey, fetch: fetchImpl });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createChatHandler({ client, model: MODEL }),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    fake,
    url,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await fake.close();
    },
  };
}

const ask = (url: string, prompt: unknown) =>
  fetch(`${url}/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt }),
  });

Deno.test("edge example: the page, then a checkpoint's answer streamed back as text", async () => {
  await using env = await setup(5);
  const page = await fetch(env.url);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const html = await page.text();
  assert.match(html, /<form id="ask">/);
  assert.ok(html.includes(MODEL));
  assert.ok(!html.includes(env.fake.apiKey), "the key never reaches the browser");

  const res = await ask(env.url, "hello");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  const pieces: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) pieces.push(decoder.decode(chunk, { stream: true }));
  assert.equal(pieces.join(""), expected(env.fake, "hello"));
  assert.ok(pieces.length > 1, "streamed in pieces, not in one block");
  const [upstream] = env.fake.log;
  assert.equal(upstream!.path, "/oai/api/v1/chat/completions");
  assert.equal(upstream!.headers["authorization"], `Bearer ${env.fake.apiKey}`);
});

Deno.test("edge example: bad requests and upstream failures are HTTP errors", async () => {
  await using env = await setup();
  const empty = await ask(env.url, "  ");
  assert.equal(empty.status, 400);
  assert.match(await empty.text(), /non-empty string/);
  const get = await fetch(`${env.url}/chat`);
  assert.equal(get.status, 405);
  await get.body?.cancel();
  const missing = await fetch(`${env.url}/nope`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  await env.fake.inject({
    path: /chat\/completions$/,
    status: 400,
    body: { error: { message: "too long" } },
  });
  const failed = await ask(env.url, "hello");
  assert.equal(failed.status, 502);
  assert.match(await failed.text(), /too long/);
});

Deno.test("edge example: a browser that goes away stops the model's stream", async () => {
  // The real fetch, watched: did the handler abort its request to Tinker?
  let upstreamAborted = false;
  const watched: typeof fetch = (input, init) => {
    init?.signal?.addEventListener("abort", () => (upstreamAborted = true));
    return fetch(input, init);
  };
  await using env = await setup(20, watched);
  const controller = new AbortController();
  const res = await fetch(`${env.url}/chat`, {
    method: "POST",
    body: JSON.stringify({ prompt: "hello" }),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.closed.catch(() => {});
  for (let i = 0; i < 100 && !upstreamAborted; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(upstreamAborted, true);
  assert.equal(env.fake.log.length, 1);
});

const CHROMIUM = ["chromium", "chromium-browser", "google-chrome"].find((name) => {
  try {
    return new Deno.Command("which", { args: [name], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
});
if (CHROMIUM === undefined) {
  console.log("edge example: no chromium on this machine; the headless browser test is skipped");
}

Deno.test({
  name: "edge example: a real headless browser shows the streamed answer",
  ignore: CHROMIUM === undefined,
  async fn() {
    await using env = await setup(2);
    const profile = await Deno.makeTempDir();
    const browser = new Deno.Command(CHROMIUM!, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      // "DevTools listening on ws://127.0.0.1:<port>/devtools/browser/<id>"
      const port = await devtoolsPort(browser.stderr);
      const target = await (await fetch(
        `http://127.0.0.1:${port}/json/new?${encodeURIComponent(`${env.url}/?prompt=hello`)}`,
        { method: "PUT" },
      )).json() as { webSocketDebuggerUrl: string };
      const page = await cdp(target.webSocketDebuggerUrl);
      try {
        // The page asks at once (?prompt=); poll its DOM until the stream has ended.
        let state = { done: "", text: "" };
        for (let i = 0; i < 200 && state.done === ""; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          state = JSON.parse(
            await page.evaluate(
              `(() => {
                const answer = document.getElementById("answer");
                return JSON.stringify({ done: answer.dataset.done ?? "", text: answer.textContent });
              })()`,
            ),
          );
        }
        assert.equal(state.done, "true");
        assert.equal(state.text, expected(env.fake, "hello"));
      } finally {
        page.close();
      }
    } finally {
      browser.kill();
      await browser.status;
      await removeProfile(profile);
    }
  },
});

/**
 * Removes Chromium's profile directory. The browser's helper processes (renderer,
 * crash handler) outlive the main one by a moment and may still write there, so a
 * removal that meets a directory filling up is tried again for up to 5 s.
 */
async function removeProfile(profile: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.remove(profile, { recursive: true });
      return;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The DevTools port Chromium prints on stderr (the rest of stderr is drained). */
async function devtoolsPort(stderr: ReadableStream<Uint8Array>): Promise<number> {
  const lines = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  for (;;) {
    const { done, value } = await lines.read();
    if (done) throw new Error(`Chromium exited without a DevTools port: ${seen}`);
    seen += value;
    const match = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(seen);
    if (match) {
      void (async () => {
        while (!(await lines.read()).done);
      })();
      return Number(match[1]);
    }
  }
}

/** A minimal Chrome DevTools Protocol session on one page: `Runtime.evaluate`. */
async function cdp(url: string) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  };
  return {
    evaluate(expression: string): Promise<string> {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method: "Runtime.evaluate", params: { expression } }));
      return new Promise((resolve) => {
        waiting.set(id, (result) => {
          waiting.delete(id);
          const value = (result as { result?: { value?: unknown } }).result?.value;
          resolve(typeof value === "string" ? value : JSON.stringify({ done: "", text: "" }));
        });
      });
    },
    close: () => socket.close(),
  };
}
