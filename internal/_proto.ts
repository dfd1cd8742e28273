// Protocol buffers wire primitives, by hand and without dependencies: the
// varint / fixed64 / fixed32 / length-delimited encodings, packed repeated
// scalars, and the little-endian byte views of typed arrays that Tinker's
// messages carry in `bytes` fields (tokens as int32, tensors as float32 or
// int64). Message layouts live in `_proto_messages.ts`.
//
// Encoding builds a tree of fields whose sizes are known as soon as each
// message is complete, then writes everything once into a single buffer:
// large `bytes` payloads (tensors) are copied exactly once.

import { TinkerError } from "../errors.ts";

/** Wire types of the protobuf encoding. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LEN = 2;
export const FIXED32 = 5;

const TWO_32 = 4294967296;
// Marked pure: a program that uses only RestClient bundles none of this module.
const LITTLE_ENDIAN =
  /* @__PURE__ */ (() => new Uint8Array(new Uint16Array([1]).buffer)[0] === 1)();
const encoder = /* @__PURE__ */ new TextEncoder();
const decoder = /* @__PURE__ */ new TextDecoder("utf-8", { fatal: true });

/** A protobuf message that cannot be decoded (truncated, wrong wire type, out of range). */
export class ProtoError extends TinkerError {
  /** The class name, kept through minification. */
  override name: string = "ProtoError";
}

/** Bytes a varint of `value` takes; `value` is a non-negative safe integer. */
function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 4;
  let rest = Math.floor(value / 0x10000000);
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 128);
  }
  return size;
}

// A field of a message under construction: its key (tag) and payload.
/** A field of a message under construction. */
export type Part =
  | { tag: number; kind: "varint"; value: number } // non-negative, safe
  | { tag: number; kind: "int64"; value: number } // any safe integer (negative: 10 bytes)
  | { tag: number; kind: "double"; value: number }
  | { tag: number; kind: "float"; value: number }
  | { tag: number; kind: "bytes"; value: Uint8Array }
  | { tag: number; kind: "message"; value: MessageWriter }
  | { tag: number; kind: "packed"; value: readonly number[]; payload: number };

function int64Size(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}

/**
 * One message being encoded. Fields are appended in the order they should
 * appear on the wire (the official encoders write them by field number);
 * {@linkcode MessageWriter.finish} writes the message into one buffer.
 */
export class MessageWriter {
  /** The fields appended so far, in wire order. */
  readonly parts: Part[] = [];
  /** The encoded size in bytes of the fields appended so far. */
  size = 0;

  #push(part: Part, payloadSize: number): void {
    this.parts.push(part);
    this.size += varintSize(part.tag) + payloadSize;
  }

  /** An unsigned varint field (uint32, uint64, enum, non-negative int32). */
  uint(field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Field ${field} needs a non-negative whole number, got ${value}`);
    }
    this.#push({ tag: field * 8 + VARINT, kind: "varint", value }, varintSize(value));
    return this;
  }

  /** A signed int32/int64 varint field (negatives take ten bytes, as in protobuf). */
  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`Field ${field} needs a whole number within ±2^53, got ${value}`);
    }
    this.#push({ tag: field * 8 + VARINT, kind: "int64", value }, int64Size(value));
    return this;
  }

  /** A bool field, written as a varint 0/1. */
  bool(field: number, value: boolean): this {
    return this.uint(field, value ? 1 : 0);
  }

  /** A double field (fixed64, little-endian IEEE 754). */
  double(field: number, value: number): this {
    this.#push({ tag: field * 8 + FIXED64, kind: "double", value }, 8);
    return this;
  }

  /** A float field (fixed32, little-endian IEEE 754). */
  float(field: number, value: number): this {
    this.#push({ tag: field * 8 + FIXED32, kind: "float", value }, 4);
    return this;
  }

  /** A bytes field (the bytes are referenced, and copied only by `finish`). */
  bytes(field: number, value: Uint8Array): this {
    this.#push(
      { tag: field * 8 + LEN, kind: "bytes", value },
      varintSize(value.byteLength) + value.byteLength,
    );
    return this;
  }

  /** A string field, UTF-8 encoded. */
  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** An embedded message field; `message` must be complete when this is called. */
  message(field: number, message: MessageWriter): this {
    this.#push(
      { tag: field * 8 + LEN, kind: "message", value: message },
      varintSize(message.size) + message.size,
    );
    return this;
  }

  /** A packed repeated int32/int64 field; nothing is written for an empty list (proto3). */
  packedInt(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    let payload = 0;
    for (const value of values) {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`Field ${field} needs whole numbers within ±2^53, got ${value}`);
      }
      payload += int64Size(value);
    }
    this.#push(
      { tag: field * 8 + LEN, kind: "packed", value: values, payload },
      varintSize(payload) + payload,
    );
    return this;
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    const view = new DataView(out.buffer);
    const end = writeParts(this.parts, out, view, 0);
    if (end !== out.length) throw new Error(`Protobuf size mismatch: ${end} != ${out.length}`);
    return out;
  }
}

function writeVarint(out: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

// A signed 64-bit varint: the two's complement as 64 unsigned bits.
function writeInt64(out: Uint8Array, pos: number, value: number): number {
  if (value >= 0) return writeVarint(out, pos, value);
  let lo = value >>> 0;
  let hi = Math.floor(value / TWO_32) >>> 0;
  for (let i = 0; i < 9; i++) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[pos++] = lo & 0x01;
  return pos;
}

function writeParts(parts: readonly Part[], out: Uint8Array, view: DataView, pos: number): number {
  for (const part of parts) {
    pos = writeVarint(out, pos, part.tag);
    switch (part.kind) {
      case "varint":
        pos = writeVarint(out, pos, part.value);
        break;
      case "int64":
        pos = writeInt64(out, pos, part.value);
        break;
      case "double":
        view.setFloat64(pos, part.value, true);
        pos += 8;
        break;
      case "float":
        view.setFloat32(pos, part.value, true);
        pos += 4;
        break;
      case "bytes":
        pos = writeVarint(out, pos, part.value.byteLength);
        out.set(part.value, pos);
        pos += part.value.byteLength;
        break;
      case "message":
        pos = writeVarint(out, pos, part.value.size);
        pos = writeParts(part.value.parts, out, view, pos);
        break;
      case "packed":
        pos = writeVarint(out, pos, part.payload);
        for (const value of part.value) pos = writeInt64(out, pos, value);
        break;
    }
  }
  return pos;
}

/** One field read from a message: its number, wire type, and where its value is. */
export interface ProtoField {
  /** The field number. */
  field: number;
  /** The wire type (`VARINT`, `FIXED64`, `LEN`, `FIXED32`). */
  wire: number;
}

/**
 * Reads the fields of one message, in wire order. Unknown fields are skipped
 * by calling {@linkcode ProtoReader.skip}, as protobuf requires.
 */
export class ProtoReader {
  #bytes: Uint8Array;
  #view: DataView;
  #pos: number;
  #end: number;
  /** The message being read, named in errors. */
  readonly what: string;

  /**
   * @param bytes The encoded message.
   * @param what The message's name, for errors (`"SampleResponse"`).
   */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = 0;
    this.#end = bytes.byteLength;
    this.what = what;
  }

  #fail(problem: string): never {
    throw new ProtoError(`Malformed protobuf ${this.what}: ${problem} at byte ${this.#pos}`);
  }

  /** The next field's key, or `undefined` at the end of the message. */
  next(): ProtoField | undefined {
    if (this.#pos >= this.#end) return undefined;
    const key = this.#varint();
    const field = Math.floor(key / 8);
    if (field === 0) this.#fail("field number 0");
    return { field, wire: key % 8 };
  }

  #varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) this.#fail("truncated varint");
      const byte = this.#bytes[this.#pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    return this.#fail("varint longer than 10 bytes");
  }

  #expect(field: ProtoField, wire: number): void {
    if (field.wire !== wire) {
      this.#fail(`field ${field.field} has wire type ${field.wire}, expected ${wire}`);
    }
  }

  /** An unsigned varint (uint32, uint64, enum, bool) as a number; fails past 2^53. */
  uint(field: ProtoField): number {
    this.#expect(field, VARINT);
    const value = this.#varint();
    if (!Number.isSafeInteger(value)) this.#fail(`field ${field.field} exceeds 2^53`);
    return value;
  }

  /** A signed int32/int64 varint as a number; fails outside ±2^53. */
  int(field: ProtoField): number {
    this.#expect(field, VARINT);
    return this.#signed(field.field);
  }

  #signed(field: number): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) this.#fail("truncated varint");
      const byte = this.#bytes[this.#pos++]!;
      const bits = byte & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (byte < 0x80) {
        const value = (hi | 0) * TWO_32 + (lo >>> 0);
        if (!Number.isSafeInteger(value)) this.#fail(`field ${field} is beyond ±2^53`);
        return value;
      }
    }
    return this.#fail("varint longer than 10 bytes");
  }

  /** A bool. */
  bool(field: ProtoField): boolean {
    return this.uint(field) !== 0;
  }

  /** A double (fixed64). */
  double(field: ProtoField): number {
    this.#expect(field, FIXED64);
    if (this.#pos + 8 > this.#end) this.#fail("truncated double");
    const value = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return value;
  }

  /** A float (fixed32). */
  float(field: ProtoField): number {
    this.#expect(field, FIXED32);
    if (this.#pos + 4 > this.#end) this.#fail("truncated float");
    const value = this.#view.getFloat32(this.#pos, true);
    this.#pos += 4;
    return value;
  }

  /** A bytes field, as a view into the message (not a copy). */
  bytes(field: ProtoField): Uint8Array {
    this.#expect(field, LEN);
    const length = this.#varint();
    if (length > this.#end - this.#pos) this.#fail(`field ${field.field} overruns the message`);
    const value = this.#bytes.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return value;
  }

  /** A string field (UTF-8; invalid UTF-8 fails). */
  string(field: ProtoField): string {
    const bytes = this.bytes(field);
    try {
      return decoder.decode(bytes);
    } catch {
      return this.#fail(`field ${field.field} is not valid UTF-8`);
    }
  }

  /** An embedded message, as a reader of its own. */
  message(field: ProtoField, what: string): ProtoReader {
    return new ProtoReader(this.bytes(field), what);
  }

  /** A repeated int32/int64 field, packed or not: appends to `into`. */
  repeatedInt(field: ProtoField, into: number[]): void {
    if (field.wire === VARINT) {
      into.push(this.#signed(field.field));
      return;
    }
    const packed = this.message(field, this.what);
    while (packed.#pos < packed.#end) into.push(packed.#signed(field.field));
  }

  /** Skips a field this decoder does not know (protobuf's forward compatibility). */
  skip(field: ProtoField): void {
    switch (field.wire) {
      case VARINT:
        this.#varint();
        return;
      case FIXED64:
        this.#advance(8);
        return;
      case LEN:
        this.#advance(this.#varint());
        return;
      case FIXED32:
        this.#advance(4);
        return;
      default:
        this.#fail(`unsupported wire type ${field.wire} (field ${field.field})`);
    }
  }

  #advance(count: number): void {
    if (count > this.#end - this.#pos) this.#fail("truncated field");
    this.#pos += count;
  }
}

// ---------------------------------------------------------------------------
// Little-endian views of typed data, as numpy's `tobytes()`/`frombuffer` on
// the little-endian machines the SDK runs on.

/** The little-endian bytes of float32 values (a view when possible). */
export function float32Bytes(values: Float32Array | ArrayLike<number>): Uint8Array {
  if (values instanceof Float32Array && LITTLE_ENDIAN) {
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  const out = new Uint8Array(values.length * 4);
  if (LITTLE_ENDIAN) {
    new Float32Array(out.buffer).set(values);
    return out;
  }
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/**
 * The little-endian int32 bytes of whole numbers (token ids). Values outside
 * int32 fail with `what` and the index named.
 */
export function int32Bytes(values: Int32Array | ArrayLike<number>, what: string): Uint8Array {
  if (values instanceof Int32Array && LITTLE_ENDIAN) {
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
      throw new RangeError(`${what}[${i}] must be a whole number within int32, got ${value}`);
    }
    view.setInt32(i * 4, value, true);
  }
  return out;
}

/**
 * The little-endian int64 bytes of safe integers (each as two 32-bit halves,
 * so no BigInt is made). Values that are not safe integers fail with `what`
 * and the index named.
 */
export function int64Bytes(values: ArrayLike<number>, what: string): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`${what}[${i}] must be a whole number within ±2^53, got ${value}`);
    }
    view.setUint32(i * 8, value >>> 0, true);
    view.setInt32(i * 8 + 4, Math.floor(value / TWO_32), true);
  }
  return out;
}

function checkWhole(bytes: Uint8Array, size: number, what: string): number {
  if (bytes.byteLength % size !== 0) {
    throw new ProtoError(
      `Malformed protobuf ${what}: ${bytes.byteLength} bytes is not a whole number of ` +
        `${size}-byte values`,
    );
  }
  return bytes.byteLength / size;
}

/** float32 values from little-endian bytes (a copy, so it is aligned and owned). */
export function float32FromBytes(bytes: Uint8Array, what: string): Float32Array {
  const count = checkWhole(bytes, 4, what);
  if (LITTLE_ENDIAN) return new Float32Array(bytes.slice().buffer, 0, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** int32 values from little-endian bytes (a copy). */
export function int32FromBytes(bytes: Uint8Array, what: string): Int32Array {
  const count = checkWhole(bytes, 4, what);
  if (LITTLE_ENDIAN) return new Int32Array(bytes.slice().buffer, 0, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

/** int64 values from little-endian bytes as numbers; values beyond ±2^53 fail. */
export function int64FromBytes(bytes: Uint8Array, what: string): number[] {
  const count = checkWhole(bytes, 8, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const value = view.getInt32(i * 8 + 4, true) * TWO_32 + view.getUint32(i * 8, true);
    if (!Number.isSafeInteger(value)) {
      throw new ProtoError(`Malformed protobuf ${what}: int64 value ${i} is beyond ±2^53`);
    }
    out[i] = value;
  }
  return out;
}

/** bfloat16 values (the upper halves of float32s) from little-endian bytes, widened. */
export function bfloat16FromBytes(bytes: Uint8Array, what: string): Float32Array {
  const count = checkWhole(bytes, 2, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wide = new Uint32Array(count);
  for (let i = 0; i < count; i++) wide[i] = view.getUint16(i * 2, true) << 16;
  return new Float32Array(wide.buffer);
}
