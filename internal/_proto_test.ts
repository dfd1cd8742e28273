import assert from "node:assert/strict";
import {
  bfloat16FromBytes,
  float32Bytes,
  float32FromBytes,
  int32Bytes,
  int32FromBytes,
  int64Bytes,
  int64FromBytes,
  MessageWriter,
  ProtoError,
  ProtoReader,
} from "./_proto.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));

Deno.test("varints are written as protobuf writes them", async (t) => {
  const cases: [number, string][] = [
    [0, "0800"],
    [1, "0801"],
    [127, "087f"],
    [128, "088001"],
    [300, "08ac02"],
    [2 ** 28, "088080808001"],
    [2 ** 31 - 1, "08ffffffff07"],
    [2 ** 32, "088080808010"],
    [2 ** 53 - 1, "08ffffffffffffff0f"],
    [-1, "08ffffffffffffffffff01"],
    [-(2 ** 31), "0880808080f8ffffffff01"],
    [-(2 ** 53 - 1), "0881808080808080f0ff01"],
  ];
  for (const [value, expected] of cases) {
    await t.step(`${value}`, () => {
      const bytes = new MessageWriter().int(1, value).finish();
      assert.equal(hex(bytes), expected);
      const reader = new ProtoReader(bytes, "Test");
      assert.equal(reader.int(reader.next()!), value);
      assert.equal(reader.next(), undefined);
    });
  }
});

Deno.test("every field kind round-trips, with packed and unpacked repeated ints", () => {
  const inner = new MessageWriter().string(1, "héllo");
  const bytes = new MessageWriter()
    .uint(1, 2 ** 40)
    .bool(2, true)
    .double(3, -0.1)
    .float(4, 1.5)
    .bytes(5, new Uint8Array([1, 2, 3]))
    .message(6, inner)
    .packedInt(7, [3, -1, 2 ** 35])
    .packedInt(8, [])
    .int(9, 4) // an unpacked element of a repeated field
    .finish();
  const r = new ProtoReader(bytes, "Test");
  assert.equal(r.uint(r.next()!), 2 ** 40);
  assert.equal(r.bool(r.next()!), true);
  assert.equal(r.double(r.next()!), -0.1);
  assert.equal(r.float(r.next()!), 1.5);
  assert.deepEqual(r.bytes(r.next()!), new Uint8Array([1, 2, 3]));
  const m = r.message(r.next()!, "Inner");
  assert.equal(m.string(m.next()!), "héllo");
  const repeated: number[] = [];
  r.repeatedInt(r.next()!, repeated);
  r.repeatedInt(r.next()!, repeated);
  assert.deepEqual(repeated, [3, -1, 2 ** 35, 4]);
  assert.equal(r.next(), undefined);
});

Deno.test("unknown fields of every wire type are skipped", () => {
  const bytes = new MessageWriter()
    .uint(10, 5)
    .double(11, 1)
    .string(12, "x")
    .float(13, 2)
    .string(1, "kept")
    .finish();
  const r = new ProtoReader(bytes, "Test");
  let kept = "";
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1) kept = r.string(f);
    else r.skip(f);
  }
  assert.equal(kept, "kept");
});

Deno.test("malformed input fails with a ProtoError naming the message and the problem", async (t) => {
  const fails = (bytes: number[], read: (r: ProtoReader) => unknown, pattern: RegExp) => {
    assert.throws(
      () => read(new ProtoReader(new Uint8Array(bytes), "Thing")),
      (e) =>
        e instanceof ProtoError && /Malformed protobuf Thing/.test(e.message) &&
        pattern.test(e.message),
    );
  };
  await t.step(
    "truncated varint",
    () => fails([0x08, 0x80], (r) => r.uint(r.next()!), /truncated varint/),
  );
  await t.step(
    "overlong varint",
    () => fails([0x08, ...Array(11).fill(0xff)], (r) => r.uint(r.next()!), /longer than 10/),
  );
  await t.step(
    "overlong signed varint",
    () => fails([0x08, ...Array(11).fill(0xff)], (r) => r.int(r.next()!), /longer than 10/),
  );
  await t.step("field number 0", () => fails([0x00, 0x01], (r) => r.next(), /field number 0/));
  await t.step(
    "wrong wire type",
    () => fails([0x0d, 0, 0, 0, 0], (r) => r.uint(r.next()!), /wire type 5, expected 0/),
  );
  await t.step(
    "truncated double",
    () => fails([0x09, 0, 0], (r) => r.double(r.next()!), /truncated double/),
  );
  await t.step(
    "truncated float",
    () => fails([0x0d, 0], (r) => r.float(r.next()!), /truncated float/),
  );
  await t.step("overrun", () => fails([0x0a, 0x05, 1], (r) => r.bytes(r.next()!), /overruns/));
  await t.step(
    "bad UTF-8",
    () => fails([0x0a, 0x01, 0xff], (r) => r.string(r.next()!), /not valid UTF-8/),
  );
  await t.step(
    "uint beyond 2^53",
    () => fails([0x08, ...Array(8).fill(0xff), 0x7f], (r) => r.uint(r.next()!), /exceeds 2\^53/),
  );
  await t.step(
    "int beyond 2^53",
    () =>
      fails(
        [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10],
        (r) => r.int(r.next()!),
        /beyond ±2\^53/,
      ),
  );
  await t.step(
    "skip a truncated field",
    () => fails([0x11, 0], (r) => r.skip(r.next()!), /truncated field/),
  );
  await t.step(
    "skip a group",
    () => fails([0x0b], (r) => r.skip(r.next()!), /unsupported wire type 3/),
  );
});

Deno.test("the writer refuses values its field type cannot hold", () => {
  assert.throws(
    () => new MessageWriter().uint(1, -1),
    /Field 1 needs a non-negative whole number, got -1/,
  );
  assert.throws(
    () => new MessageWriter().int(2, 0.5),
    /Field 2 needs a whole number within ±2\^53, got 0.5/,
  );
  assert.throws(
    () => new MessageWriter().packedInt(3, [1, 2 ** 60]),
    /Field 3 needs whole numbers/,
  );
});

Deno.test("typed data converts to and from little-endian bytes exactly", () => {
  const floats = new Float32Array([NaN, Infinity, -Infinity, -0, 1e-45, 3.25]);
  assert.deepEqual(float32FromBytes(float32Bytes(floats), "x"), floats);
  assert.deepEqual(float32FromBytes(float32Bytes([0.5, -2]), "x"), new Float32Array([0.5, -2]));
  const ints = [-(2 ** 31), -1, 0, 2 ** 31 - 1];
  assert.deepEqual(Array.from(int32FromBytes(int32Bytes(ints, "tokens"), "x")), ints);
  assert.equal(hex(int32Bytes(new Int32Array([1, -2]), "t")), "01000000feffffff");
  const longs = [-(2 ** 53 - 1), -(2 ** 40), -1, 0, 1, 2 ** 32, 2 ** 53 - 1];
  assert.deepEqual(int64FromBytes(int64Bytes(longs, "v"), "x"), longs);
  assert.equal(hex(int64Bytes([-2], "v")), "feffffffffffffff");
  // bfloat16 1.0, -2.0, NaN widened to float32.
  const bf = bfloat16FromBytes(unhex("803f00c0c07f"), "x");
  assert.deepEqual(Array.from(bf.subarray(0, 2)), [1, -2]);
  assert.ok(Number.isNaN(bf[2]));
});

Deno.test("typed data refuses values and byte counts that do not fit", () => {
  assert.throws(
    () => int32Bytes([2 ** 31], "tokens"),
    /tokens\[0\] must be a whole number within int32, got 2147483648/,
  );
  assert.throws(() => int32Bytes([1, 1.5], "tokens"), /tokens\[1\]/);
  assert.throws(() => int64Bytes([2 ** 53], "v"), /v\[0\] must be a whole number within ±2\^53/);
  assert.throws(
    () => float32FromBytes(new Uint8Array(5), "Seq.logprobs"),
    /Seq.logprobs: 5 bytes is not a whole number of 4-byte values/,
  );
  assert.throws(
    () => int64FromBytes(unhex("0000000000000080"), "T"),
    /int64 value 0 is beyond ±2\^53/,
  );
  assert.throws(() => bfloat16FromBytes(new Uint8Array(3), "B"), /3 bytes/);
});
