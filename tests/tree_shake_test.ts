// A RestClient-only program must not carry the training, sampling or
// OpenAI-compatible clients: bench/tree_shake.ts bundles it through mod.ts and
// straight from rest_client.ts and fails when the two differ.
import assert from "node:assert/strict";

Deno.test("a RestClient-only bundle carries nothing of the other clients", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../bench/tree_shake.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /RestClient-only bundle: unchanged by the training and sampling exports/);
});
