/**
 * {@linkcode TensorData}: the tensors of training requests and outputs
 * (`loss_fn_inputs`, `loss_fn_outputs`), as SDK 0.38's `tinker.TensorData`.
 *
 * Two dtypes exist on the wire, `"float32"` and `"int64"`. A float32 tensor
 * holds its values in a `Float32Array`; an int64 tensor holds them in a plain
 * `number[]` of safe integers (token ids, indices: none comes near 2^53), so
 * no `BigInt` is needed to read or build one. `BigInt64Array` and `Int32Array`
 * are accepted as input, and a value beyond ±2^53 is an error, never a
 * silently rounded number.
 *
 * @example A float32 tensor from a typed array, and back
 * ```ts
 * import { TensorData } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const weights = new TensorData({ data: new Float32Array([0, 1, 1]), dtype: "float32" });
 * assert.deepEqual(weights.toList(), [0, 1, 1]);
 * ```
 *
 * @module
 */

/** The element types of tensors on the wire. */
export type TensorDtype = "float32" | "int64";

/** Values a {@linkcode TensorData} can be built from. */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | readonly number[]
  | readonly bigint[];

/**
 * The fields of a {@linkcode TensorData}, as the SDK's constructor takes them.
 *
 * @example A sparse 2×3 int64 tensor
 * ```ts
 * import type { TensorDataInit } from "@tinker-ts/tinker";
 * const init: TensorDataInit = {
 *   data: [7, 9],
 *   dtype: "int64",
 *   shape: [2, 3],
 *   sparse_crow_indices: [0, 1, 2],
 *   sparse_col_indices: [2, 0],
 * };
 * ```
 */
export interface TensorDataInit {
  /** The values, flattened row-major (for a sparse tensor: only the listed values). */
  data: TensorValues;
  /** The element type. */
  dtype: TensorDtype;
  /** The dense shape; absent means one dimension of `data.length`. Required when sparse. */
  shape?: readonly number[] | null;
  /** CSR row pointers (`rows + 1` of them); set together with `sparse_col_indices`. */
  sparse_crow_indices?: readonly number[] | null;
  /** CSR column index of each value in `data`. */
  sparse_col_indices?: readonly number[] | null;
}

/**
 * The JSON form of a tensor, as the SDK serialises `TensorData` (used where a
 * tensor travels in a JSON body, e.g. `target_prompt_logprobs` of a sample
 * request).
 *
 * @example
 * ```ts
 * import type { TensorDataJson } from "@tinker-ts/tinker";
 * const json: TensorDataJson = { data: [1, 2], dtype: "int64", shape: [2] };
 * ```
 */
export interface TensorDataJson {
  /** The values, flattened. */
  data: number[];
  /** The element type. */
  dtype: TensorDtype;
  /** The shape, when known. */
  shape?: number[];
  /** CSR row pointers, for a sparse tensor. */
  sparse_crow_indices?: number[];
  /** CSR column indices, for a sparse tensor. */
  sparse_col_indices?: number[];
}

/** The dtype the SDK gives a plain number list under each well-known `loss_fn_inputs` key. */
const KEY_DTYPES: Readonly<Record<string, TensorDtype>> = {
  target_tokens: "int64",
  weights: "float32",
  advantages: "float32",
  logprobs: "float32",
  clip_low_threshold: "float32",
  clip_high_threshold: "float32",
  sequence_ratio_mask: "float32",
};

function fail(what: string, problem: string): never {
  throw new RangeError(`Invalid ${what}: ${problem}`);
}

function wholeList(values: readonly number[] | null | undefined, what: string): number[] | null {
  if (values === null || values === undefined) return null;
  if (!Array.isArray(values)) fail(what, `expected an array of whole numbers, got ${values}`);
  return values.map((value, i) => {
    if (!Number.isSafeInteger(value) || value < 0) {
      fail(what, `element ${i} must be a non-negative whole number, got ${value}`);
    }
    return value;
  });
}

function toInt64(values: TensorValues, what: string): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const raw = values[i]!;
    const value = typeof raw === "bigint" ? Number(raw) : raw;
    if (!Number.isSafeInteger(value) || (typeof raw === "bigint" && BigInt(value) !== raw)) {
      fail(what, `int64 element ${i} must be a whole number within ±2^53, got ${raw}`);
    }
    out[i] = value;
  }
  return out;
}

function toFloat32(values: TensorValues, what: string): Float32Array {
  if (values instanceof Float32Array) return values;
  if (values instanceof BigInt64Array) return Float32Array.from(values, Number);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (typeof value !== "number") {
      fail(what, `float32 element ${i} must be a number, got ${value}`);
    }
    out[i] = value;
  }
  return out;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * A tensor of a training request or output, as the SDK's `TensorData`: flat
 * values plus a shape, optionally sparse CSR (then `data` holds only the listed
 * values and every other entry is a pad value chosen when densifying).
 *
 * float32 values are a `Float32Array` (kept, not copied, when one is given);
 * int64 values are a `number[]` of safe integers.
 *
 * @example Target tokens and weights of a datum
 * ```ts
 * import { TensorData } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const targets = new TensorData({ data: [5, 6, 7], dtype: "int64" });
 * const weights = new TensorData({ data: [0, 1, 1], dtype: "float32", shape: [3] });
 * assert.deepEqual(targets.data, [5, 6, 7]);
 * assert.ok(weights.data instanceof Float32Array);
 * ```
 */
export class TensorData {
  /** The element type. */
  readonly dtype: TensorDtype;
  /** The values, flattened row-major: a `Float32Array` for float32, `number[]` for int64. */
  readonly data: Float32Array | number[];
  /** The dense shape, or `null` for "one dimension, `data.length` long". */
  readonly shape: number[] | null;
  /** CSR row pointers, when sparse. */
  readonly sparse_crow_indices: number[] | null;
  /** CSR column indices, when sparse. */
  readonly sparse_col_indices: number[] | null;

  /**
   * Builds a tensor, checking that the shape fits the values.
   *
   * @param init The values, dtype, shape and (for a sparse tensor) CSR indices.
   * @throws {RangeError} On an unknown dtype, a value the dtype cannot hold,
   *   a shape that does not fit, or inconsistent CSR indices.
   */
  constructor(init: TensorDataInit) {
    const { dtype } = init;
    if (dtype !== "float32" && dtype !== "int64") {
      fail("TensorData dtype", `expected "float32" or "int64", got ${JSON.stringify(dtype)}`);
    }
    if (init.data === null || typeof init.data !== "object" || !("length" in init.data)) {
      fail("TensorData data", `expected an array or typed array, got ${init.data}`);
    }
    this.dtype = dtype;
    this.data = dtype === "float32"
      ? toFloat32(init.data, "TensorData data")
      : toInt64(init.data, "TensorData data");
    this.shape = wholeList(init.shape, "TensorData shape");
    this.sparse_crow_indices = wholeList(
      init.sparse_crow_indices,
      "TensorData sparse_crow_indices",
    );
    this.sparse_col_indices = wholeList(init.sparse_col_indices, "TensorData sparse_col_indices");
    const crow = this.sparse_crow_indices;
    const col = this.sparse_col_indices;
    if ((crow === null) !== (col === null)) {
      fail("TensorData", "sparse_crow_indices and sparse_col_indices must be set together");
    }
    if (crow !== null && col !== null) {
      const shape = this.shape;
      if (shape === null || shape.length !== 2) {
        fail("TensorData shape", `a sparse CSR tensor needs a 2-D shape, got ${shape}`);
      }
      if (crow.length !== shape[0]! + 1) {
        fail(
          "TensorData sparse_crow_indices",
          `expected ${shape[0]! + 1} row pointers, got ${crow.length}`,
        );
      }
      if (col.length !== this.data.length || crow[crow.length - 1] !== col.length) {
        fail(
          "TensorData sparse_col_indices",
          `expected one per value (${this.data.length}), got ${col.length}`,
        );
      }
      if (col.some((c) => c >= shape[1]!)) {
        fail("TensorData sparse_col_indices", `a column index is outside ${shape[1]} columns`);
      }
    } else if (this.shape !== null && product(this.shape) !== this.data.length) {
      fail(
        "TensorData shape",
        `[${this.shape}] holds ${product(this.shape)} values, got ${this.data.length}`,
      );
    }
  }

  /** Whether the tensor is sparse CSR. */
  get sparse(): boolean {
    return this.sparse_crow_indices !== null;
  }

  /**
   * The tensor for one `loss_fn_inputs` entry, as the SDK's `Datum` coerces
   * it: a `TensorData` is kept; a `Float32Array`/`Float64Array` becomes
   * float32 and an `Int32Array`/`BigInt64Array` int64; a plain (possibly
   * nested, rectangular) number list takes the dtype the SDK gives its key
   * (`target_tokens` int64; `weights`, `advantages`, `logprobs`… float32).
   *
   * @param key The `loss_fn_inputs` key.
   * @param value The value given for it.
   * @returns The tensor.
   * @throws {RangeError} For a ragged list, or a plain list under a key the SDK
   *   has no dtype for (build a `TensorData` with an explicit dtype instead).
   *
   * @example
   * ```ts
   * import { TensorData } from "@tinker-ts/tinker";
   * import assert from "node:assert/strict";
   *
   * const t = TensorData.fromLossFnInput("target_tokens", [[1, 2], [3, 4]]);
   * assert.equal(t.dtype, "int64");
   * assert.deepEqual(t.shape, [2, 2]);
   * ```
   */
  static fromLossFnInput(key: string, value: LossFnInputValue): TensorData {
    if (value instanceof TensorData) return value;
    if (value instanceof Float32Array || value instanceof Float64Array) {
      return new TensorData({ data: value, dtype: "float32", shape: [value.length] });
    }
    if (value instanceof Int32Array || value instanceof BigInt64Array) {
      return new TensorData({ data: value, dtype: "int64", shape: [value.length] });
    }
    if (!Array.isArray(value)) {
      fail(`loss_fn_inputs.${key}`, `expected a TensorData, typed array or number list`);
    }
    const dtype = Object.hasOwn(KEY_DTYPES, key) ? KEY_DTYPES[key] : undefined;
    if (dtype === undefined) {
      fail(
        `loss_fn_inputs.${key}`,
        `a plain number list needs a known key (${Object.keys(KEY_DTYPES).join(", ")}); ` +
          `wrap it in a TensorData with an explicit dtype`,
      );
    }
    const nested = value.length > 0 && Array.isArray(value[0]);
    if (!nested) return new TensorData({ data: value as number[], dtype, shape: [value.length] });
    const rows = value as readonly (readonly number[])[];
    const width = rows[0]!.length;
    const flat: number[] = [];
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== width || row.some((x) => Array.isArray(x))) {
        fail(`loss_fn_inputs.${key}`, `row ${i} breaks the rectangle (${width} columns)`);
      }
      flat.push(...row);
    });
    return new TensorData({ data: flat, dtype, shape: [rows.length, width] });
  }

  /**
   * The values densified and flattened row-major: a sparse tensor's unlisted
   * entries become `padValue`.
   *
   * @param padValue The value of unlisted entries of a sparse tensor.
   * @returns A `Float32Array` for float32, a `number[]` for int64 (a copy when sparse).
   */
  toDense(padValue = 0): Float32Array | number[] {
    const crow = this.sparse_crow_indices;
    const col = this.sparse_col_indices;
    if (crow === null || col === null) return this.data;
    const [rows, cols] = this.shape as [number, number];
    const out = this.dtype === "float32"
      ? new Float32Array(rows * cols).fill(padValue)
      : new Array<number>(rows * cols).fill(padValue);
    for (let r = 0; r < rows; r++) {
      for (let i = crow[r]!; i < crow[r + 1]!; i++) out[r * cols + col[i]!] = this.data[i]!;
    }
    return out;
  }

  /**
   * The values as nested number lists following the shape, as the SDK's
   * `tolist()` (a sparse tensor is densified with `padValue`).
   *
   * @param padValue The value of unlisted entries of a sparse tensor.
   * @returns Nested arrays, `shape.length` deep (a flat list when no shape).
   *
   * @example
   * ```ts
   * import { TensorData } from "@tinker-ts/tinker";
   * import assert from "node:assert/strict";
   *
   * const t = new TensorData({ data: [1, 2, 3, 4, 5, 6], dtype: "int64", shape: [2, 3] });
   * assert.deepEqual(t.toList(), [[1, 2, 3], [4, 5, 6]]);
   * ```
   */
  toList(padValue = 0): NestedNumbers {
    const flat = Array.from(this.toDense(padValue));
    const shape = this.shape ?? [flat.length];
    if (shape.length === 0) return flat;
    const build = (dim: number, offset: number): NestedNumbers => {
      const n = shape[dim]!;
      if (dim === shape.length - 1) return flat.slice(offset, offset + n);
      const stride = product(shape.slice(dim + 1));
      return Array.from(
        { length: n },
        (_, i) => build(dim + 1, offset + i * stride),
      ) as NestedNumbers;
    };
    return build(0, 0);
  }

  /**
   * The SDK's JSON form (`{ data, dtype, shape?, sparse_crow_indices?, sparse_col_indices? }`).
   *
   * @returns The JSON object; `JSON.stringify` calls this.
   */
  toJSON(): TensorDataJson {
    const json: TensorDataJson = { data: Array.from(this.data), dtype: this.dtype };
    if (this.shape !== null) json.shape = [...this.shape];
    if (this.sparse_crow_indices !== null) {
      json.sparse_crow_indices = [...this.sparse_crow_indices];
      json.sparse_col_indices = [...this.sparse_col_indices!];
    }
    return json;
  }
}

/** Nested number lists, as {@linkcode TensorData.toList} returns. */
export type NestedNumbers = number[] | NestedNumbers[];

/**
 * What a `loss_fn_inputs` entry may be given as; see
 * {@linkcode TensorData.fromLossFnInput} for how each becomes a tensor.
 */
export type LossFnInputValue =
  | TensorData
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | readonly number[]
  | readonly (readonly number[])[];
