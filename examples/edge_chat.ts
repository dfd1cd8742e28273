/**
 * An edge function that streams a Tinker checkpoint's answer to a browser:
 * a `Deno.serve` handler with no `Worker`, no file system and no Python,
 * deployable to Deno Deploy as it is.
 *
 * - `GET /` serves a small page with a prompt box (`/?prompt=...` asks at once).
 * - `POST /chat` with `{"prompt": "..."}` answers with the model's text as a
 *   plain-text stream, token by token as the model generates it. The page
 *   reads it with `fetch` and shows it as it arrives.
 *
 * Configuration, from the environment: `TINKER_API_KEY`, `TINKER_MODEL` (a
 * base model id or `tinker://<run>/sampler_weights/<name>`), and optionally
 * `TINKER_BASE_URL`. The key stays on the server: the browser never sees it.
 *
 * Run it locally, or deploy it (outside this repository, import the package
 * from JSR instead of the relative path below:
 * `import { OpenAIClient } from "jsr:@tinker-ts/tinker/openai";`):
 *
 * ```sh
 * TINKER_API_KEY=tml-... TINKER_MODEL=tinker://<run>/sampler_weights/<name> \
 *   deno run --allow-net --allow-env examples/edge_chat.ts
 * deployctl deploy --entrypoint=examples/edge_chat.ts   # Deno Deploy
 * ```
 *
 * @module
 */
import { OpenAIClient } from "../openai_client.ts";

/** Settings of the chat handler. */
export interface EdgeChatOptions {
  /** The client (default: one from `TINKER_API_KEY` / `TINKER_BASE_URL`). */
  client?: OpenAIClient;
  /** The model to ask (default: `TINKER_MODEL`). */
  model?: string;
  /** Most tokens per answer (default 512). */
  maxTokens?: number;
}

const MAX_PROMPT = 8_000;

/**
 * The request handler: the page, and the streamed answers.
 *
 * @param options The client, the model and the answer length.
 * @returns A handler for `Deno.serve`.
 */
export function createChatHandler(
  options: EdgeChatOptions = {},
): (req: Request) => Promise<Response> {
  const model = options.model ?? Deno.env.get("TINKER_MODEL") ?? "";
  const client = options.client ?? new OpenAIClient();
  const maxTokens = options.maxTokens ?? 512;
  return async (req) => {
    const { pathname } = new URL(req.url);
    if (pathname === "/" && req.method === "GET") {
      return new Response(page(model), {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    if (pathname !== "/chat") return text(404, "Not found");
    if (req.method !== "POST") return text(405, "Use POST");
    if (model === "") return text(500, "Set TINKER_MODEL to a model or checkpoint path");
    let prompt: unknown;
    try {
      prompt = (await req.json() as { prompt?: unknown }).prompt;
    } catch {
      return text(400, 'Send JSON: {"prompt": "..."}');
    }
    if (typeof prompt !== "string" || prompt.trim() === "" || prompt.length > MAX_PROMPT) {
      return text(400, `The prompt must be a non-empty string of at most ${MAX_PROMPT} characters`);
    }
    // Stops the model's stream when the browser goes away.
    const upstream = new AbortController();
    const deltas = client.streamChatCompletion(
      { model, messages: [{ role: "user", content: prompt }], max_tokens: maxTokens },
      { signal: upstream.signal },
    ).textDeltas()[Symbol.asyncIterator]();
    // Wait for the first piece, so a failed request is an HTTP error, not a 200.
    let first: IteratorResult<string>;
    try {
      first = await deltas.next();
    } catch (error) {
      return text(502, `The model did not answer: ${(error as Error).message}`);
    }
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (!first.done) controller.enqueue(encoder.encode(first.value));
      },
      async pull(controller) {
        try {
          const next = await deltas.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (error) {
          controller.enqueue(encoder.encode(`\n[error: ${(error as Error).message}]`));
          controller.close();
        }
      },
      async cancel() {
        upstream.abort();
        await deltas.return?.();
      },
    });
    return new Response(first.done ? "" : body, {
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      },
    });
  };
}

function text(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** The page: a prompt box, and the answer shown as it streams in. */
function page(model: string): string {
  const escaped = model.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Talk to a checkpoint</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
  textarea { width: 100%; min-height: 5rem; font: inherit; }
  #answer { white-space: pre-wrap; border-left: 3px solid #888; padding-left: 1rem; min-height: 3rem; }
  code { font-size: 0.9em; }
</style>
<h1>Talk to a checkpoint</h1>
<p>Model: <code id="model">${escaped}</code></p>
<form id="ask">
  <textarea id="prompt" name="prompt" placeholder="Ask something" required></textarea>
  <button id="send">Send</button>
</form>
<div id="answer" aria-live="polite"></div>
<script type="module">
  const form = document.getElementById("ask");
  const answer = document.getElementById("answer");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    answer.textContent = "";
    form.send.disabled = true;
    try {
      const res = await fetch("/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: form.prompt.value }),
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        answer.textContent += value;
      }
      answer.dataset.done = String(res.ok);
    } catch (error) {
      answer.textContent += "\\n[" + error + "]";
    } finally {
      form.send.disabled = false;
    }
  });
  // A link can ask at once: /?prompt=...
  const asked = new URLSearchParams(location.search).get("prompt");
  if (asked) {
    form.prompt.value = asked;
    form.requestSubmit();
  }
</script>
</html>
`;
}

if (import.meta.main) Deno.serve(createChatHandler());
