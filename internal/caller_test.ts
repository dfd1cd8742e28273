// Errors that reach the caller through `await` carry the caller's frames:
// the call site recorded when the future was created, not only the
// library's steps run from the event loop.

import assert from "node:assert/strict";
import { ApiConnectionError, NotFoundError, RestClient } from "../mod.ts";
import { captureCaller, withCaller } from "./_caller.ts";
import { rejection } from "../tests/_assert.ts";
import { startFakeTinker } from "../testing/mod.ts";

/** A caller with a name to look for in the stack. */
function lookUpMissingRun(rest: RestClient): Promise<unknown> {
  return rest.getTrainingRun("missing:train:0");
}

Deno.test("an awaited error's stack starts at the caller's line", async () => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const error = await rejection(lookUpMissingRun(rest));
  assert.ok(error instanceof NotFoundError);
  const stack = error.stack ?? "";
  assert.match(stack, /^NotFoundError: Request failed with status 404/);
  const frames = stack.split("\n").slice(1);
  assert.match(frames[0]!, /at lookUpMissingRun \(.*caller_test\.ts:13:15\)/, stack);
  assert.ok(
    !/_future\.ts|rest_client\.ts:|_request\.ts/.test(stack),
    `no library frames:\n${stack}`,
  );
});

Deno.test("a connection failure names the caller too", async () => {
  const rest = new RestClient({ baseUrl: "http://127.0.0.1:9", apiKey: "tml-x", maxRetries: 0 });
  const error = await rejection(rest.whoami());
  assert.ok(error instanceof ApiConnectionError);
  assert.match((error.stack ?? "").split("\n")[1]!, /caller_test\.ts:\d+:\d+/, error.stack);
});

Deno.test("an uncaught error from await shows the caller's line", async () => {
  await using fake = await startFakeTinker();
  const dir = await Deno.makeTempDir();
  const script = `${dir}/uncaught.ts`;
  await Deno.writeTextFile(
    script,
    [
      `import { RestClient } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};`,
      `const rest = new RestClient({ baseUrl: ${JSON.stringify(fake.url)}, apiKey: ${
        JSON.stringify(fake.apiKey)
      } });`,
      `await rest.getTrainingRun("missing:train:0");`,
      "",
    ].join("\n"),
  );
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0);
    assert.match(text, /Uncaught \(in promise\) NotFoundError/);
    assert.match(text, /uncaught\.ts:3:\d+/, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withCaller sets a stack once and leaves non-errors alone", () => {
  const site = captureCaller();
  assert.ok(site);
  const error = new Error("boom");
  assert.equal(withCaller(error, site), error);
  const first = error.stack;
  assert.match(first ?? "", /^Error: boom\n\s+at .*caller_test\.ts/);
  withCaller(error, captureCaller());
  assert.equal(error.stack, first, "attached once");
  assert.equal(withCaller("text", site), "text");
  assert.equal(withCaller(error, undefined), error);
});
