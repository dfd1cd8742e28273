import assert from "node:assert/strict";
import { ApiError } from "../errors.ts";
import { withoutRefusedDefaults } from "./_unknown_key_fallback.ts";

/** TuFT's (FastAPI's) 422 for keys its request model does not have. */
function refused(...keys: string[]): ApiError {
  return new ApiError({
    status: 422,
    body: {
      detail: keys.map((key) => ({
        type: "extra_forbidden",
        loc: ["body", key],
        msg: "Extra inputs are not permitted",
        input: 0,
      })),
    },
  });
}

Deno.test("withoutRefusedDefaults", async (t) => {
  const body = { seq_id: 1, topk_sample_logprobs: 0, record_stability_info: false };
  const defaults = { topk_sample_logprobs: 0, record_stability_info: false, kind: "snapshot" };

  await t.step("drops every refused key that holds its default", () => {
    assert.deepEqual(
      withoutRefusedDefaults(
        refused("topk_sample_logprobs", "record_stability_info"),
        body,
        defaults,
      ),
      { seq_id: 1 },
    );
    assert.deepEqual(body, { seq_id: 1, topk_sample_logprobs: 0, record_stability_info: false });
  });

  await t.step("keeps the error when a refused key holds a value the caller chose", () => {
    const chosen = { ...body, topk_sample_logprobs: 5 };
    assert.equal(
      withoutRefusedDefaults(refused("topk_sample_logprobs"), chosen, defaults),
      undefined,
    );
  });

  await t.step("keeps the error when a refused key has no default", () => {
    assert.equal(withoutRefusedDefaults(refused("seq_id"), body, defaults), undefined);
  });

  await t.step("keeps the error when any other problem is reported with it", () => {
    const mixed = new ApiError({
      status: 422,
      body: {
        detail: [
          { type: "extra_forbidden", loc: ["body", "topk_sample_logprobs"] },
          { type: "missing", loc: ["body", "prompt"] },
        ],
      },
    });
    assert.equal(withoutRefusedDefaults(mixed, body, defaults), undefined);
  });

  await t.step("keeps any other error", () => {
    const other = new ApiError({ status: 400, body: refused("kind").body });
    assert.equal(withoutRefusedDefaults(other, body, defaults), undefined);
    assert.equal(withoutRefusedDefaults(new Error("x"), body, defaults), undefined);
    assert.equal(
      withoutRefusedDefaults(new ApiError({ status: 422, body: "text" }), body, defaults),
      undefined,
    );
  });
});
