// `tinker chat MODEL [PROMPT]` and `tinker model list --sampleable`: the
// OpenAI-compatible endpoint, streamed to stdout as the tokens arrive.

import type { ChatCompletionRequest, ChatMessage, OpenAIClient } from "../openai_client.ts";
import { ApiTimeoutError, ApiUserAbortError } from "../errors.ts";
import { CliError, EXIT } from "./_errors.ts";
import type { Context } from "./_context.ts";
import type { Value } from "./_format.ts";
import type { Handler } from "./_spec.ts";

/** `tinker chat MODEL [PROMPT]`. */
export const chat: Handler = async (ctx, { args, options }) => {
  const prompt = args.PROMPT as string | undefined ?? await readPrompt(ctx);
  if (prompt.trim() === "") {
    throw new CliError(
      "The prompt is empty",
      'Pass it as an argument (tinker chat MODEL "hello") or on stdin.',
      EXIT.input,
    );
  }
  const messages: ChatMessage[] = [];
  if (typeof options.system === "string") {
    messages.push({ role: "system", content: options.system });
  }
  messages.push({ role: "user", content: prompt });
  const request: ChatCompletionRequest = { model: String(args.MODEL), messages };
  if (options["max-tokens"] !== undefined) request.max_tokens = options["max-tokens"] as number;
  if (options.temperature !== undefined) {
    request.temperature = temperature(String(options.temperature));
  }
  using oai = await client(ctx);
  // --idle-timeout is the per-attempt timeout, which also bounds each wait for the next token.
  const seconds = options["idle-timeout"] as number | undefined ?? DEFAULT_IDLE_TIMEOUT_S;
  const call = { signal: ctx.signal, timeoutMs: seconds * 1000 };
  if (ctx.format === "json") { // The final response object, not streamed.
    const answer = await oai.chatCompletion(request, call).catch((error) => {
      throw timedOut(error, `no answer within ${seconds} s`);
    });
    ctx.emit({ json: answer as Value, table: none });
    return;
  }
  const stream = oai.streamChatCompletion(request, call);
  let ended = true; // Whether the output ends with a newline.
  try {
    if (ctx.format === "jsonl") {
      for await (const chunk of stream) ctx.emit({ json: chunk as Value, table: none });
      return;
    }
    for await (const piece of stream.textDeltas()) {
      ctx.out(piece);
      ended = piece.endsWith("\n");
    }
  } catch (error) {
    // Ctrl-C (or a failure) mid-answer: end the line so the message starts on its own.
    if (!ended && error instanceof ApiUserAbortError) ctx.err("\n");
    else if (!ended) ctx.out("\n");
    ended = true;
    throw timedOut(error, `the server sent nothing for ${seconds} s`);
  } finally {
    if (!ended) ctx.out("\n");
  }
};

/** The default of `--idle-timeout`, in seconds (the library's `timeoutMs`). */
const DEFAULT_IDLE_TIMEOUT_S = 60;

/** `error`, or for a timeout the CLI's error naming the limit and the flag that sets it. */
function timedOut(error: unknown, what: string): unknown {
  if (!(error instanceof ApiTimeoutError)) return error;
  return new CliError(
    `Request timeout: ${what} (--idle-timeout)`,
    `Try again, or raise --idle-timeout for a slow answer.\nDetails: ${error.message}`,
    EXIT.network,
    { cause: error },
  );
}

/** `tinker model list [SUBSTRING] [--sampleable]`. */
export const modelList: Handler = async (ctx, parsed) => {
  if (parsed.options.sampleable !== true) {
    const { modelList } = await import("./_misc.ts");
    return await modelList(ctx, parsed);
  }
  using oai = await client(ctx);
  const list = await oai.listModels({ signal: ctx.signal });
  const needle = (parsed.args.SUBSTRING as string | undefined)?.toLowerCase();
  const models = needle === undefined
    ? list.data
    : list.data.filter((m) => m.id.toLowerCase().includes(needle));
  if (models.length === 0 && needle !== undefined) {
    throw new CliError(
      `No model id contains '${parsed.args.SUBSTRING}'`,
      "Run 'tinker model list --sampleable' to see every model the endpoint serves.",
      EXIT.notFound,
    );
  }
  ctx.emit({
    json: { models: models as Value[] },
    items: models as Value[],
    table: () => ({
      columns: ["Model", "Owner"],
      rows: models.map((m) => [m.id, m.owned_by ?? "N/A"]),
    }),
  });
};

async function client(ctx: Context): Promise<OpenAIClient> {
  const options = await ctx.clientOptions();
  const { OpenAIClient } = await import("../openai_client.ts");
  return new OpenAIClient(options);
}

/** Every line of stdin, joined (the prompt when it is not an argument). */
async function readPrompt(ctx: Context): Promise<string> {
  const lines: string[] = [];
  for (let line = await ctx.readLine(); line !== null; line = await ctx.readLine()) {
    lines.push(line);
  }
  return lines.join("\n");
}

function temperature(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new CliError(
      `Invalid --temperature ${JSON.stringify(text)}: expected a number of at least 0`,
      undefined,
      EXIT.input,
    );
  }
  return value;
}

function none(): never {
  throw new Error("chat prints no table");
}
