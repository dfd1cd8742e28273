import assert from "node:assert/strict";
import { chunkLength, ModelInput, type ModelInputChunk } from "./model_input.ts";

Deno.test("ModelInput has the SDK's helpers", () => {
  const input = ModelInput.fromInts([1, 2]).appendInt(3);
  assert.deepEqual(input.toInts(), [1, 2, 3]);
  assert.equal(input.length, 3);
  assert.equal(input.chunks.length, 2, "appendInt adds a chunk of its own, as the SDK does");
  assert.deepEqual(ModelInput.empty().toInts(), []);
  assert.equal(ModelInput.empty().length, 0);
  assert.throws(() =>
    (input.chunks as ModelInputChunk[]).push({ type: "encoded_text", tokens: [] })
  );
});

Deno.test("ModelInput serialises to the SDK's JSON and back", () => {
  const input = new ModelInput([
    { type: "encoded_text", tokens: [7, 8] },
    { type: "image", data: new Uint8Array([0, 255, 16]), format: "jpeg", expected_tokens: 4 },
    { type: "image", data: new Uint8Array([1]), format: "png" },
    { type: "image_asset_pointer", location: "s3://b/k.png", format: "png", expected_tokens: 2 },
    { type: "dmel", dmel: new Uint8Array([0, 2, 5, 8]) },
  ]);
  const json = JSON.parse(JSON.stringify(input));
  assert.deepEqual(json, {
    chunks: [
      { tokens: [7, 8], type: "encoded_text" },
      { data: "AP8Q", format: "jpeg", expected_tokens: 4, type: "image" },
      { data: "AQ==", format: "png", type: "image" },
      { format: "png", location: "s3://b/k.png", expected_tokens: 2, type: "image_asset_pointer" },
      { dmel: "AAIFCA==", type: "dmel" },
    ],
  });
  assert.deepEqual(ModelInput.fromJSON(json), input);
  assert.throws(() => input.length, /image chunk: expected_tokens needs to be set/);
  assert.equal(new ModelInput(input.chunks.filter((_, i) => i !== 2)).length, 2 + 4 + 2 + 5);
});

Deno.test("ModelInput's JSON has the SDK's field order (model_dump of a sample request's prompt)", () => {
  const prompt = new ModelInput([
    {
      type: "image",
      data: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
      format: "png",
      expected_tokens: 4,
    },
    { type: "image_asset_pointer", location: "s3://x", format: "jpeg" },
    { type: "encoded_text", tokens: [1, 2] },
  ]);
  // From tinker 0.38: model_dump(SampleRequest(...), exclude_none=True, mode="json")["prompt"].
  assert.equal(
    JSON.stringify(prompt),
    '{"chunks":[{"data":"iVBORw==","format":"png","expected_tokens":4,"type":"image"},' +
      '{"format":"jpeg","location":"s3://x","type":"image_asset_pointer"},' +
      '{"tokens":[1,2],"type":"encoded_text"}]}',
  );
});

Deno.test("chunk lengths follow the SDK", () => {
  assert.equal(
    chunkLength({ type: "dmel", dmel: new Uint8Array([254, 3, 2, 0x81, 0x01, 9]) }),
    129,
  );
  assert.throws(
    () => chunkLength({ type: "image", data: new Uint8Array(), format: "png" }),
    /image chunk: expected_tokens needs to be set in order to compute the length/,
  );
  assert.throws(() => chunkLength({ type: "dmel", dmel: new Uint8Array() }), /bytes are empty/);
  assert.throws(() => chunkLength({ type: "dmel", dmel: new Uint8Array([254]) }), /truncated/);
  assert.throws(
    () => chunkLength({ type: "dmel", dmel: new Uint8Array([9, 1, 1]) }),
    /dtype byte 9/,
  );
  assert.throws(
    () => chunkLength({ type: "dmel", dmel: new Uint8Array([0, 0]) }),
    /no dimension 0/,
  );
  assert.throws(
    () => chunkLength({ type: "dmel", dmel: new Uint8Array([0, 1, 0x80]) }),
    /truncated/,
  );
});

Deno.test("bad chunks and tokens fail naming the value", () => {
  assert.throws(
    () => ModelInput.fromInts([1, 2.5]),
    /Invalid tokens: token 1 must be a whole number within int32, got 2.5/,
  );
  assert.throws(() => ModelInput.fromInts([2 ** 31]), /token 0/);
  assert.throws(
    () => ModelInput.fromInts(null as unknown as number[]),
    /expected an array of token ids/,
  );
  assert.throws(() => new ModelInput("x" as unknown as []), /ModelInput chunks: expected an array/);
  assert.throws(
    () => new ModelInput([null as unknown as ModelInputChunk]),
    /chunk 0: expected a chunk/,
  );
  assert.throws(
    () => new ModelInput([{ type: "video" } as unknown as ModelInputChunk]),
    /chunk 0\.type: expected "encoded_text", "image", "image_asset_pointer" or "dmel", got "video"/,
  );
  assert.throws(
    () =>
      new ModelInput([
        { type: "image", data: new Uint8Array(), format: "gif" } as unknown as ModelInputChunk,
      ]),
    /chunk 0\.format: expected "png" or "jpeg", got "gif"/,
  );
  assert.throws(
    () =>
      new ModelInput([{ type: "image", data: [1], format: "png" } as unknown as ModelInputChunk]),
    /chunk 0\.data: expected the image bytes as a Uint8Array/,
  );
  assert.throws(
    () =>
      new ModelInput([{
        type: "image",
        data: new Uint8Array(),
        format: "png",
        expected_tokens: -1,
      }]),
    /chunk 0\.expected_tokens: expected a non-negative whole number, got -1/,
  );
  assert.throws(
    () =>
      new ModelInput([
        { type: "image_asset_pointer", format: "png" } as unknown as ModelInputChunk,
      ]),
    /chunk 0\.location: expected a string/,
  );
  assert.throws(
    () => new ModelInput([{ type: "dmel", dmel: "x" } as unknown as ModelInputChunk]),
    /chunk 0\.dmel/,
  );
  assert.throws(
    () => new ModelInput([{ type: "image", data: new Uint8Array(), format: "png" }]).toInts(),
    /toInts needs token chunks only, got a image chunk/,
  );
  assert.throws(() => ModelInput.fromJSON({}), /expected \{ chunks: \[\.\.\.\] \}/);
  assert.throws(
    () => ModelInput.fromJSON({ chunks: [{ type: "image", data: "%%%", format: "png" }] }),
    /chunk 0\.data: is not valid base64/,
  );
  assert.throws(
    () => ModelInput.fromJSON({ chunks: [{ type: "dmel", dmel: 5 }] }),
    /chunk 0\.dmel: expected a base64 string, got 5/,
  );
});
