import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { encodeForwardBackwardRequest } from "../internal/_proto_messages.ts";
import { ModelInput } from "../model_input.ts";
import { canonicalForwardBackwardBody } from "./proto_body.ts";

const PYTHON = fileURLToPath(new URL("../.venv/bin/python", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./proto_fixtures.py", import.meta.url));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

Deno.test("encodings of one request that differ only in map order read the same", () => {
  const datum = (inputs: Record<string, number[]>) => ({
    model_input: ModelInput.fromInts([1, 2]),
    loss_fn_inputs: inputs,
  });
  const base = { model_id: "m", seq_id: 1, loss_fn: "ppo" };
  const a = encodeForwardBackwardRequest({
    ...base,
    loss_fn_config: { a: 1, b: "x" },
    data: [datum({ target_tokens: [2, 3], weights: [1, NaN] })],
  });
  const b = encodeForwardBackwardRequest({
    ...base,
    loss_fn_config: { b: "x", a: 1 },
    data: [datum({ weights: [1, NaN], target_tokens: [2, 3] })],
  });
  assert.notDeepEqual(a, b);
  assert.equal(canonicalForwardBackwardBody(a), canonicalForwardBackwardBody(b));
  const c = encodeForwardBackwardRequest({
    ...base,
    loss_fn_config: { a: 1, b: "x" },
    data: [datum({ target_tokens: [2, 3], weights: [1, 0] })],
  });
  assert.notEqual(canonicalForwardBackwardBody(a), canonicalForwardBackwardBody(c));
});

Deno.test({
  name: "the SDK's bytes, as sent and with sorted maps, read the same",
  ignore: !existsSync(PYTHON),
  async fn() {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, [SCRIPT], { maxBuffer: 1 << 28 }, (e, out) => (e ? reject(e) : resolve(out)))
    );
    const cases = (JSON.parse(stdout) as { kind: string; sdk: string; sdk_sorted: string }[])
      .filter((c) => c.kind === "forward_backward_request");
    assert.ok(cases.some((c) => c.sdk !== c.sdk_sorted), "some SDK bodies have unsorted maps");
    for (const c of cases) {
      assert.equal(
        canonicalForwardBackwardBody(unb64(c.sdk)),
        canonicalForwardBackwardBody(unb64(c.sdk_sorted)),
      );
    }
  },
});
