import assert from "node:assert/strict";
import { caught } from "./tests/_assert.ts";
import { formatTinkerPath, parseTinkerPath, TinkerPathError } from "./tinker_path.ts";
import { TinkerError } from "./errors.ts";

const VALID: [string, string, string, string][] = [
  // input, run id, type, checkpoint id
  ["tinker://run-1/weights/0001", "run-1", "training", "weights/0001"],
  ["tinker://run-1/sampler_weights/final", "run-1", "sampler", "sampler_weights/final"],
  ["tinker://a1b2c3:train:0/weights/ckpt-001", "a1b2c3:train:0", "training", "weights/ckpt-001"],
  [
    "tinker://d07c70ac-ee41-5bd0-bc58-817060f69db4:train:0/weights/final",
    "d07c70ac-ee41-5bd0-bc58-817060f69db4:train:0",
    "training",
    "weights/final",
  ],
  ["tinker://run-id/weights/checkpoint-001", "run-id", "training", "weights/checkpoint-001"],
  ["tinker://run-1/sampler_weights/copy-test", "run-1", "sampler", "sampler_weights/copy-test"],
  ["tinker://run-1/external_weights/export", "run-1", "external", "external_weights/export"],
  ["tinker://run_1/weights/000060", "run_1", "training", "weights/000060"],
  ["tinker://run.1/weights/step.10", "run.1", "training", "weights/step.10"],
  ["tinker://ünïcode/weights/名前", "ünïcode", "training", "weights/名前"],
  ["tinker://r@x/weights/a+b=c", "r@x", "training", "weights/a+b=c"],
];

const INVALID: [string, RegExp][] = [
  ["", /must start with "tinker:\/\/"/],
  ["run-1/weights/0001", /must start with "tinker:\/\/"/],
  ["TINKER://run-1/weights/0001", /must start with "tinker:\/\/"/],
  ["tinker:/run-1/weights/0001", /must start with "tinker:\/\/"/],
  [" tinker://run-1/weights/0001", /must start with "tinker:\/\/"/],
  ["tinker://run-1/weights", /expected 3 segments.*found 2/],
  ["tinker://run-1", /expected 3 segments.*found 1/],
  ["tinker://run-1/weights/a/b", /expected 3 segments.*found 4/],
  ["tinker://run-1/weights/0001/", /expected 3 segments.*found 4/],
  ["tinker://run-1/foo/0001", /second segment must be "weights"/],
  ["tinker://run-1/Weights/0001", /second segment must be "weights"/],
  ["tinker://run-1/weights/", /checkpoint name is empty/],
  ["tinker:///weights/x", /run id is empty/],
  ["tinker://run-1/weights/0001?x=1", /must not contain "\?"/],
  ["tinker://run-1/weights/0001#frag", /must not contain "#"/],
  ["tinker://run%2F1/weights/0001", /must not contain "%"/],
  ["tinker://run-1/weights/a%2Fb", /must not contain "%"/],
  ["tinker://run-1/weights/..", /must not be "\.\."/],
  ["tinker://../weights/0001", /must not be "\.\."/],
  ["tinker://./weights/0001", /must not be "\."/],
  ["tinker://run 1/weights/0001", /must not contain a space/],
  ["tinker://run-1/weights/0001 ", /must not contain a space/],
  ["tinker://run-1/weights/00\t01", /U\+0009/],
  ["tinker://run-1/weights/00\u000001", /U\+0000/],
  ["tinker://run-1/weights/00\n01", /U\+000A/],
  ["tinker://run-1/weights/\ud800", /lone surrogate/],
];

Deno.test("parseTinkerPath() accepts the SDK's grammar", async (t) => {
  for (const [input, run, type, id] of VALID) {
    await t.step(input, () => {
      assert.deepEqual(parseTinkerPath(input), {
        tinker_path: input,
        training_run_id: run,
        checkpoint_type: type,
        checkpoint_id: id,
      });
    });
  }
});

Deno.test("parseTinkerPath() rejects malformed paths naming the input and the rule", async (t) => {
  for (const [input, rule] of INVALID) {
    await t.step(JSON.stringify(input), () => {
      const error = caught(() => parseTinkerPath(input));
      assert.ok(error instanceof TinkerPathError);
      assert.ok(error instanceof TinkerError);
      assert.equal(error.input, input);
      assert.match(error.message, rule);
      assert.ok(error.message.startsWith(`Invalid tinker path ${JSON.stringify(input)}`));
    });
  }
});

Deno.test("parseTinkerPath() rejects non-strings and cuts a 10 KB input in its message", () => {
  assert.throws(() => parseTinkerPath(42 as unknown as string), /expected a string/);
  const long = `tinker://${"x".repeat(10_000)}/weights`;
  const error = caught(() => parseTinkerPath(long));
  assert.ok(error instanceof TinkerPathError);
  assert.ok(error.message.length < 400);
});

Deno.test("formatTinkerPath() is the inverse of parseTinkerPath()", () => {
  for (const [input] of VALID) assert.equal(formatTinkerPath(parseTinkerPath(input)), input);
  assert.equal(
    formatTinkerPath({ training_run_id: "a:train:0", checkpoint_id: "sampler_weights/final" }),
    "tinker://a:train:0/sampler_weights/final",
  );
});

Deno.test("formatTinkerPath() rejects parts that do not make a valid path", () => {
  assert.throws(
    () => formatTinkerPath({ training_run_id: "", checkpoint_id: "weights/1" }),
    /run id is empty/,
  );
  assert.throws(
    () => formatTinkerPath({ training_run_id: "r", checkpoint_id: "0001" }),
    /expected 3 segments/,
  );
});
