import assert from "node:assert/strict";
import { TensorData } from "./tensor_data.ts";

Deno.test("TensorData keeps float32 in a Float32Array and int64 as safe integers", () => {
  const values = new Float32Array([1, 2]);
  const f = new TensorData({ data: values, dtype: "float32" });
  assert.equal(f.data, values, "a Float32Array is kept, not copied");
  assert.equal(f.shape, null);
  assert.ok(new TensorData({ data: [0.1], dtype: "float32" }).data instanceof Float32Array);
  assert.ok(
    new TensorData({ data: new Float64Array([0.5]), dtype: "float32" }).data instanceof
      Float32Array,
  );
  assert.deepEqual(
    Array.from(new TensorData({ data: new BigInt64Array([3n]), dtype: "float32" }).data),
    [3],
  );
  const i = new TensorData({
    data: new BigInt64Array([-5n, 2n ** 40n]),
    dtype: "int64",
    shape: [2],
  });
  assert.deepEqual(i.data, [-5, 2 ** 40]);
  assert.deepEqual(new TensorData({ data: new Int32Array([7]), dtype: "int64" }).data, [7]);
  assert.deepEqual(new TensorData({ data: [1n, 2n], dtype: "int64" }).data, [1, 2]);
});

Deno.test("TensorData refuses values, shapes and CSR indices that do not fit, naming them", () => {
  const bad = (init: unknown, pattern: RegExp) =>
    assert.throws(
      () => new TensorData(init as ConstructorParameters<typeof TensorData>[0]),
      pattern,
    );
  bad(
    { data: [1], dtype: "float64" },
    /TensorData dtype: expected "float32" or "int64", got "float64"/,
  );
  bad({ data: 5, dtype: "int64" }, /TensorData data: expected an array or typed array, got 5/);
  bad(
    { data: [1.5], dtype: "int64" },
    /int64 element 0 must be a whole number within ±2\^53, got 1.5/,
  );
  bad({ data: [2n ** 60n], dtype: "int64" }, /int64 element 0 .* got 1152921504606846976/);
  bad({ data: ["x"], dtype: "float32" }, /float32 element 0 must be a number, got x/);
  bad(
    { data: [1, 2, 3], dtype: "int64", shape: [2, 2] },
    /TensorData shape: \[2,2\] holds 4 values, got 3/,
  );
  bad(
    { data: [1], dtype: "int64", shape: [-1] },
    /TensorData shape: element 0 must be a non-negative whole number, got -1/,
  );
  bad({ data: [1], dtype: "int64", shape: "1" }, /TensorData shape: expected an array/);
  bad(
    { data: [1], dtype: "int64", shape: [1, 1], sparse_crow_indices: [0, 1] },
    /must be set together/,
  );
  bad({
    data: [1],
    dtype: "int64",
    shape: [1],
    sparse_crow_indices: [0, 1],
    sparse_col_indices: [0],
  }, /needs a 2-D shape/);
  bad(
    {
      data: [1],
      dtype: "int64",
      shape: [2, 2],
      sparse_crow_indices: [0, 1],
      sparse_col_indices: [0],
    },
    /expected 3 row pointers, got 2/,
  );
  bad(
    {
      data: [1],
      dtype: "int64",
      shape: [1, 2],
      sparse_crow_indices: [0, 1],
      sparse_col_indices: [0, 1],
    },
    /expected one per value \(1\), got 2/,
  );
  bad(
    {
      data: [1],
      dtype: "int64",
      shape: [1, 2],
      sparse_crow_indices: [0, 1],
      sparse_col_indices: [2],
    },
    /a column index is outside 2 columns/,
  );
});

Deno.test("a sparse tensor densifies with the pad value, and lists follow the shape", () => {
  const t = new TensorData({
    data: [7, 9, 11],
    dtype: "int64",
    shape: [3, 4],
    sparse_crow_indices: [0, 1, 1, 3],
    sparse_col_indices: [2, 0, 3],
  });
  assert.ok(t.sparse);
  assert.deepEqual(t.toList(), [[0, 0, 7, 0], [0, 0, 0, 0], [9, 0, 0, 11]]);
  assert.deepEqual(t.toList(-100)[1], [-100, -100, -100, -100]);
  const f = new TensorData({
    data: [0.5],
    dtype: "float32",
    shape: [1, 2],
    sparse_crow_indices: [0, 1],
    sparse_col_indices: [1],
  });
  assert.deepEqual(f.toDense(), new Float32Array([0, 0.5]));
  const cube = new TensorData({ data: [1, 2, 3, 4, 5, 6, 7, 8], dtype: "int64", shape: [2, 2, 2] });
  assert.deepEqual(cube.toList(), [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
  assert.deepEqual(new TensorData({ data: [4], dtype: "int64", shape: [] }).toList(), [4]);
  assert.deepEqual(new TensorData({ data: [1, 2], dtype: "int64" }).toList(), [1, 2]);
});

Deno.test("TensorData serialises to the SDK's JSON form", () => {
  const dense = new TensorData({ data: new Float32Array([0.5, 1]), dtype: "float32", shape: [2] });
  assert.deepEqual(JSON.parse(JSON.stringify(dense)), {
    data: [0.5, 1],
    dtype: "float32",
    shape: [2],
  });
  const sparse = new TensorData({
    data: [-1],
    dtype: "int64",
    shape: [1, 3],
    sparse_crow_indices: [0, 1],
    sparse_col_indices: [2],
  });
  assert.deepEqual(sparse.toJSON(), {
    data: [-1],
    dtype: "int64",
    shape: [1, 3],
    sparse_crow_indices: [0, 1],
    sparse_col_indices: [2],
  });
  assert.deepEqual(new TensorData({ data: [3], dtype: "int64" }).toJSON(), {
    data: [3],
    dtype: "int64",
  });
});

Deno.test("loss_fn_inputs values are coerced as the SDK's Datum does", () => {
  const same = new TensorData({ data: [1], dtype: "int64" });
  assert.equal(TensorData.fromLossFnInput("anything", same), same);
  const cases: [string, unknown, string, number[]][] = [
    ["target_tokens", [1, 2], "int64", [2]],
    ["weights", [1, 0], "float32", [2]],
    ["advantages", [[1, 2, 3], [4, 5, 6]], "float32", [2, 3]],
    ["target_tokens", [], "int64", [0]],
    ["custom", new Float32Array(3), "float32", [3]],
    ["custom", new Float64Array(2), "float32", [2]],
    ["custom", new Int32Array(4), "int64", [4]],
    ["custom", new BigInt64Array(1), "int64", [1]],
  ];
  for (const [key, value, dtype, shape] of cases) {
    const t = TensorData.fromLossFnInput(key, value as number[]);
    assert.equal(t.dtype, dtype, key);
    assert.deepEqual(t.shape, shape, key);
  }
  assert.throws(
    () => TensorData.fromLossFnInput("custom", [1, 2]),
    /loss_fn_inputs\.custom: a plain number list needs a known key \(target_tokens, weights/,
  );
  assert.throws(
    () => TensorData.fromLossFnInput("weights", [[1, 2], [3]]),
    /loss_fn_inputs\.weights: row 1 breaks the rectangle \(2 columns\)/,
  );
  assert.throws(
    () => TensorData.fromLossFnInput("weights", "1,2" as unknown as number[]),
    /loss_fn_inputs\.weights: expected a TensorData, typed array or number list/,
  );
  assert.throws(() => TensorData.fromLossFnInput("toString", [1]), /needs a known key/);
});
