// Value formatting shared by the CLI commands, written to match the official
// Python CLI byte for byte: `format_size`, `format_timestamp`, Python's
// `str(datetime)`, `repr(float)`, `repr(dict)` and `json.dumps` (which escapes
// non-ASCII), and the pydantic `model_dump()` of the response types (every
// field, defaults included, in declaration order).

/** A JSON-compatible value as it goes to `-f json` output. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A float that Python prints with a fractional part (`12.0`), as pydantic's
 * `float` fields do. Wrap numbers of float-typed fields in this so `pyJson`
 * and `pyStr` render them as Python would.
 */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

/** The value tree of an output, before rendering: JSON plus {@linkcode PyFloat}. */
export type Value =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | Value[]
  | { [key: string]: Value };

const SIZE_UNITS = ["KB", "MB", "GB", "TB", "PB", "EB"];

/** `format_size`: 1024-based, one decimal place (`1.5 KB`), `N/A` when negative. */
export function formatSize(bytes: number): string {
  if (bytes < 0) return "N/A";
  if (bytes < 1024) return `${Math.trunc(bytes)} B`;
  let size = bytes / 1024;
  let unit = 0;
  while (!(size < 1024) && unit < SIZE_UNITS.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${pyFixed(size, 1)} ${SIZE_UNITS[unit]}`;
}

/** `format_bool`: `Yes` / `No`. */
export function formatBool(value: unknown): string {
  return value ? "Yes" : "No";
}

/**
 * `format_timestamp`: relative for the last/next 30 days (`3 days ago`,
 * `in 2 hours`, `just now`), else `YYYY-MM-DD` (UTC); unparsable input is
 * returned as given, empty input is `N/A`.
 */
export function formatTimestamp(value: unknown, now: number = Date.now()): string {
  if (value === null || value === undefined || value === "" || value === false || value === 0) {
    return "N/A";
  }
  if (typeof value !== "string") return String(value);
  // Only the instant matters here: no ParsedTimestamp is built.
  const iso = isoInstant(value);
  if (iso === undefined) return value;
  const micros = iso.micros;
  const nowMicros = now * 1000;
  const future = micros > nowMicros;
  const deltaMicros = Math.abs(nowMicros - micros);
  const days = Math.floor(deltaMicros / 86_400_000_000);
  const totalSeconds = Math.floor(deltaMicros / 1_000_000);
  // In UTC already, the date is as written.
  if (days > 30) return iso.offsetMinutes === 0 ? value.slice(0, 10) : utcDate(micros);
  if (days > 7) return relative(Math.floor(days / 7), "week", future);
  if (days > 0) return relative(days, "day", future);
  if (totalSeconds > 3600) return relative(Math.floor(totalSeconds / 3600), "hour", future);
  if (totalSeconds > 60) return relative(Math.floor(totalSeconds / 60), "minute", future);
  return future ? "in less than a minute" : "just now";
}

/** `3 days ago`, `in 1 hour`. */
function relative(n: number, unit: string, future: boolean): string {
  const text = `${n} ${unit}${n > 1 ? "s" : ""}`;
  return future ? `in ${text}` : `${text} ago`;
}

function utcDate(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toISOString().slice(0, 10);
}

/** A timestamp parsed like Python's `datetime.fromisoformat` (naive = UTC), with microseconds. */
export interface ParsedTimestamp {
  /** Microseconds since the epoch (exact for any realistic date). */
  micros: number;
  /** Date and time fields as written. */
  fields: {
    year: string;
    month: string;
    day: string;
    hour: string;
    minute: string;
    second: string;
    /** Exactly six digits. */
    micro: string;
  };
  /** `+00:00`-style offset, or `""` for a naive timestamp. */
  offset: string;
  /** Whether the input had a time part. */
  hasTime: boolean;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?(?:(Z|z)|([+-])(\d{2}):?(\d{2})(?::?(\d{2}))?)?)?$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A valid timestamp: `ISO`'s match, the instant and the offset. */
interface IsoReading {
  /** Groups: 1–3 date, 4–6 time, 7 fraction, 8 `Z`, 9–12 offset sign, hours, minutes, seconds. */
  match: RegExpExecArray;
  /** Microseconds since the epoch. */
  micros: number;
  /** Minutes east of UTC (0 when naive). */
  offsetMinutes: number;
}

/** The instant of an ISO timestamp and its offset (what `readIso` reads, without the match). */
export type IsoInstant = Omit<IsoReading, "match">;

/**
 * The instant of `text` read as {@linkcode parseIsoMicros} reads it, or
 * undefined when that finds no timestamp: the form servers send by
 * character codes (see {@linkcode readServerIso}), anything else by `ISO`.
 */
export function isoInstant(text: string): IsoInstant | undefined {
  return readServerIso(text) ?? readIso(text);
}

/**
 * `text` when it has the form servers send, `2026-01-31T03:04:05.123456Z`
 * (0, 3 or 6 fraction digits, `Z` or `±HH:MM`, a year from 100 on), read
 * by character codes: the `ISO` regex's first use costs more (~0.1 ms in a
 * compiled CLI) than reading a listing's timestamps this way. Undefined
 * for anything else, valid or not (`readIso` decides those).
 */
function readServerIso(text: string): IsoInstant | undefined {
  const length = text.length;
  const places = length === 24 || length === 29 ? 3 : length === 27 || length === 32 ? 6 : 0;
  const zone = places === 0 ? 19 : 20 + places; // Where `Z` or the offset's sign is.
  if (zone !== length - 1 && zone !== length - 6) return undefined;
  if (
    text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH ||
    text.charCodeAt(10) !== LETTER_T ||
    text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON ||
    (places !== 0 && text.charCodeAt(19) !== DOT)
  ) {
    return undefined;
  }
  const century = pair(text, 0), yearOf = pair(text, 2);
  const year = century * 100 + yearOf;
  const month = pair(text, 5), day = pair(text, 8);
  const hour = pair(text, 11), minute = pair(text, 14), second = pair(text, 17);
  if (
    century < 1 || yearOf < 0 || month < 1 || month > 12 || day < 1 ||
    (day > 28 && day > daysInMonth(year, month)) || hour < 0 || hour > 23 ||
    minute < 0 || minute > 59 || second < 0 || second > 59
  ) {
    return undefined;
  }
  let micro = 0;
  if (places !== 0) {
    const high = pair(text, 20), middle = places === 3 ? digit(text, 22) : pair(text, 22);
    const low = places === 3 ? 0 : pair(text, 24);
    if (high < 0 || middle < 0 || low < 0) return undefined;
    micro = places === 3 ? (high * 10 + middle) * 1000 : high * 10_000 + middle * 100 + low;
  }
  let offsetMinutes = 0;
  if (zone === length - 6) {
    const sign = text.charCodeAt(zone);
    const hours = pair(text, zone + 1), minutes = pair(text, zone + 4);
    if (
      (sign !== PLUS && sign !== DASH) || text.charCodeAt(zone + 3) !== COLON ||
      hours < 0 || hours > 23 || minutes < 0 || minutes > 59
    ) {
      return undefined;
    }
    offsetMinutes = (sign === DASH ? -1 : 1) * (hours * 60 + minutes);
  } else if (text.charCodeAt(zone) !== LETTER_Z) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return { micros: (ms - offsetMinutes * 60_000) * 1000 + micro, offsetMinutes };
}

const DASH = 0x2d, DOT = 0x2e, COLON = 0x3a, PLUS = 0x2b, LETTER_T = 0x54, LETTER_Z = 0x5a;

/** The ASCII digit at `at` as a number, or -1. */
function digit(text: string, at: number): number {
  const value = text.charCodeAt(at) - 0x30;
  return value >= 0 && value <= 9 ? value : -1;
}

/** The two ASCII digits at `at` as a number (`07` is 7), or -1. */
function pair(text: string, at: number): number {
  const tens = digit(text, at), ones = digit(text, at + 1);
  return tens < 0 || ones < 0 ? -1 : tens * 10 + ones;
}

/** `text` read as an ISO timestamp; undefined when it is not one or a field is out of range. */
function readIso(text: string): IsoReading | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  // Indexed rather than destructured: this runs for every timestamp of a
  // listing, mostly before the JIT has warmed up.
  const year = +m[1]!, month = +m[2]!, day = +m[3]!;
  const hour = +(m[4] ?? 0), minute = +(m[5] ?? 0), second = +(m[6] ?? 0);
  const offsetHour = +(m[10] ?? 0), offsetMinute = +(m[11] ?? 0);
  if (
    year < 1 || month < 1 || month > 12 || day < 1 ||
    (day > 28 && day > daysInMonth(year, month)) ||
    hour > 23 || minute > 59 || second > 59 || offsetHour > 23 || offsetMinute > 59
  ) {
    return undefined;
  }
  const offsetMinutes = m[9] === undefined
    ? 0
    : (m[9] === "-" ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year < 100) ms = new Date(ms).setUTCFullYear(year);
  const micro = m[7] === undefined ? 0 : +(m[7] + "00000").slice(0, 6);
  return { match: m, micros: (ms - offsetMinutes * 60_000) * 1000 + micro, offsetMinutes };
}

/**
 * Parses an ISO 8601 timestamp the way the official CLI does (`fromisoformat`
 * after `Z` → `+00:00`): date-only, `T` or space separator, optional seconds,
 * fractions and offset. Returns undefined when it is not one.
 */
export function parseIsoMicros(text: string): ParsedTimestamp | undefined {
  const iso = readIso(text);
  if (!iso) return undefined;
  const m = iso.match;
  const os = m[12];
  return {
    micros: iso.micros,
    fields: {
      year: m[1]!,
      month: m[2]!,
      day: m[3]!,
      hour: m[4] ?? "00",
      minute: m[5] ?? "00",
      second: m[6] ?? "00",
      micro: m[7] === undefined ? "000000" : (m[7] + "00000").slice(0, 6),
    },
    offset: m[8]
      ? "+00:00"
      : m[9]
      ? `${m[9]}${m[10]}:${m[11]}${os && os !== "00" ? `:${os}` : ""}`
      : "",
    hasTime: m[4] !== undefined,
  };
}

/**
 * Python's `str(datetime)` of a timestamp pydantic parsed from the wire:
 * `2025-01-02 03:04:05.123456+00:00` (microseconds only when non-zero, the
 * offset only when the input had one). Epoch numbers become UTC. Anything
 * unparsable is returned unchanged.
 */
export function pyDatetimeStr(value: unknown): Value {
  if (typeof value === "number") return pyDatetimeStr(epochIso(value));
  if (typeof value !== "string") return value as Value;
  const parsed = parseIsoMicros(value);
  if (!parsed) return value;
  const f = parsed.fields;
  const micro = f.micro === "000000" ? "" : `.${f.micro}`;
  return `${f.year}-${f.month}-${f.day} ${f.hour}:${f.minute}:${f.second}${micro}${parsed.offset}`;
}

/**
 * pydantic's JSON form of a datetime (`model_dump(mode="json")`):
 * `2026-07-13T05:00:00Z`, microseconds when non-zero, `Z` for UTC.
 */
export function pydanticIso(value: unknown): Value {
  if (typeof value === "number") return pydanticIso(epochIso(value));
  if (typeof value !== "string") return value as Value;
  const parsed = parseIsoMicros(value);
  if (!parsed) return value;
  const f = parsed.fields;
  const micro = f.micro === "000000" ? "" : `.${f.micro}`;
  const offset = parsed.offset === "+00:00" ? "Z" : parsed.offset;
  return `${f.year}-${f.month}-${f.day}T${f.hour}:${f.minute}:${f.second}${micro}${offset}`;
}

/** An epoch number (seconds, or milliseconds when huge, as pydantic decides) as ISO UTC. */
function epochIso(value: number): string {
  const ms = Math.abs(value) > 2e10 ? value : value * 1000;
  return new Date(ms).toISOString();
}

/**
 * `f"{x:.{digits}f}"`: fixed notation rounded half-to-even on the exact
 * binary value, as Python does (JavaScript's `toFixed` rounds ties up).
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "inf" : x < 0 ? "-inf" : "nan";
  const negative = x < 0 || Object.is(x, -0);
  const magnitude = negative ? -x : x;
  // Away from a tie, `toFixed` (correctly rounded on the exact value) agrees
  // with Python; only a near-tie needs the exact digits below.
  const scaled = magnitude * 10 ** digits;
  if (digits <= 6 && scaled < 1e9 && Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6) {
    const text = magnitude.toFixed(digits);
    return negative ? `-${text}` : text;
  }
  const exact = magnitude.toFixed(100).replace(/0+$/, "");
  const [whole = "0", frac = ""] = exact.split(".");
  const keep = frac.padEnd(digits, "0").slice(0, digits);
  const rest = frac.slice(digits);
  let roundUp = false;
  if (rest.length > 0) {
    const first = rest.charCodeAt(0) - 48;
    const tail = rest.slice(1).replace(/0/g, "");
    if (first > 5 || (first === 5 && tail.length > 0)) roundUp = true;
    else if (first === 5) {
      const lastKept = (digits > 0 ? keep : whole).at(-1) ?? "0";
      roundUp = (lastKept.charCodeAt(0) - 48) % 2 === 1;
    }
  }
  let digitsStr = whole + keep;
  if (roundUp) digitsStr = incrementDecimal(digitsStr);
  const intPart = digitsStr.slice(0, digitsStr.length - digits) || "0";
  const fracPart = digits > 0 ? `.${digitsStr.slice(digitsStr.length - digits)}` : "";
  return `${negative ? "-" : ""}${intPart}${fracPart}`;
}

function incrementDecimal(digits: string): string {
  const out = digits.split("");
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === "9") out[i] = "0";
    else {
      out[i] = String.fromCharCode(out[i]!.charCodeAt(0) + 1);
      return out.join("");
    }
  }
  return `1${out.join("")}`;
}

/** Python's `repr(float)`: shortest round-trip digits, `1.0`, `1e-05`, `1e+16`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits.padEnd(intLen, "0")}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** Python's `repr` of a JSON-like value (`{'detail': 'Not found'}`), for error details. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === "number") {
    return Number.isInteger(value) && Math.abs(value) < 1e16 ? String(value) : pyFloatRepr(value);
  }
  if (typeof value === "string") return pyStrRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    const items = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v)}`);
    return `{${items.join(", ")}}`;
  }
  return String(value);
}

function pyStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code >= 0x80 && code < 0xa0) out += `\\x${code.toString(16)}`;
    else if (/[\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]|(?! )\p{Zs}/u.test(ch)) {
      // Python's repr escapes every non-printable character (bidi overrides included).
      const hex = code.toString(16);
      out += code < 0x100
        ? `\\x${hex.padStart(2, "0")}`
        : code < 0x10000
        ? `\\u${hex.padStart(4, "0")}`
        : `\\U${hex.padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

/** Python's `str(value)` for table and CSV cells: `None` → `""` is the caller's job. */
export function pyStr(value: unknown): string {
  if (typeof value === "string") return value;
  return pyRepr(value);
}

/**
 * `json.dump(data, indent=…)` with Python's defaults: `ensure_ascii` (every
 * non-ASCII character as `\uXXXX`), `", "`/`": "` separators when compact,
 * floats as `repr(float)`.
 */
export function pyJson(value: Value, indent?: number): string {
  const pad = indent === undefined ? undefined : " ".repeat(indent);
  const out: string[] = [];
  const write = (v: Value, depth: number): void => {
    if (v === null) out.push("null");
    else if (v === true) out.push("true");
    else if (v === false) out.push("false");
    else if (v instanceof PyFloat) out.push(jsonFloat(v.value));
    else if (typeof v === "number") {
      out.push(Number.isFinite(v) ? String(v) : v > 0 ? "Infinity" : v < 0 ? "-Infinity" : "NaN");
    } else if (typeof v === "string") out.push(asciiJsonString(v));
    else if (Array.isArray(v)) {
      if (v.length === 0) return void out.push("[]");
      out.push("[");
      v.forEach((item, i) => {
        if (i > 0) out.push(pad === undefined ? ", " : ",");
        if (pad !== undefined) out.push(`\n${pad.repeat(depth + 1)}`);
        write(item, depth + 1);
      });
      if (pad !== undefined) out.push(`\n${pad.repeat(depth)}`);
      out.push("]");
    } else {
      const keys = Object.keys(v);
      if (keys.length === 0) return void out.push("{}");
      out.push("{");
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) out.push(pad === undefined ? ", " : ",");
        if (pad !== undefined) out.push(`\n${pad.repeat(depth + 1)}`);
        out.push(asciiJsonString(keys[i]!), ": ");
        write(v[keys[i]!]!, depth + 1);
      }
      if (pad !== undefined) out.push(`\n${pad.repeat(depth)}`);
      out.push("}");
    }
  };
  write(value, 0);
  return out.join("");
}

function jsonFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : x < 0 ? "-Infinity" : "NaN";
  return pyFloatRepr(x);
}

function asciiJsonString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Drops {@linkcode PyFloat} wrappers: plain JSON for `-f jsonl`-style compact output. */
export function plain(value: Value): Json {
  if (value instanceof PyFloat) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

// ---- pydantic model_dump() of the response types ---------------------------

type Raw = Record<string, unknown> | null | undefined;

const opt = (v: unknown): Value => (v === undefined ? null : v as Value);
const float = (v: unknown): Value => (typeof v === "number" ? new PyFloat(v) : opt(v));
const bool = (v: unknown, fallback: boolean): Value => (v === undefined ? fallback : v as Value);
const record = (v: unknown): Value => (v === undefined ? null : v as Value);

/** `Checkpoint.model_dump()` (0.38 field order, `user_metadata` before `expires_at`). */
export function dumpCheckpoint(c: Raw): Value {
  if (!c) return null;
  return {
    checkpoint_id: opt(c.checkpoint_id),
    checkpoint_type: opt(c.checkpoint_type),
    time: pyDatetimeStr(c.time),
    tinker_path: opt(c.tinker_path),
    size_bytes: opt(c.size_bytes),
    public: bool(c.public, false),
    user_metadata: record(c.user_metadata),
    expires_at: c.expires_at == null ? null : pyDatetimeStr(c.expires_at),
  };
}

/** `TrainingRun.model_dump()`. */
export function dumpTrainingRun(r: Raw): Value {
  if (!r) return null;
  return {
    training_run_id: opt(r.training_run_id),
    base_model: opt(r.base_model),
    model_owner: opt(r.model_owner),
    is_lora: opt(r.is_lora),
    corrupted: bool(r.corrupted, false),
    lora_rank: opt(r.lora_rank),
    last_request_time: pyDatetimeStr(r.last_request_time),
    last_checkpoint: dumpCheckpoint(r.last_checkpoint as Raw),
    last_sampler_checkpoint: dumpCheckpoint(r.last_sampler_checkpoint as Raw),
    user_metadata: record(r.user_metadata),
  };
}

/** `SupportedModel.model_dump()`. */
export function dumpSupportedModel(m: Raw): Value {
  return {
    model_name: opt(m?.model_name),
    max_context_length: opt(m?.max_context_length),
    trainable: opt(m?.trainable),
    sampleable: opt(m?.sampleable),
  };
}

/** The fields of each billing payload type, in declaration order (floats marked). */
const BILLING_PAYLOADS: Record<string, [string, "float" | "bool" | "int", unknown?][]> = {
  training: [["token_count", "int"]],
  sampling_prefill: [["cached", "bool"], ["token_count", "int"]],
  sampling_sample: [["token_count", "int"]],
  checkpoint: [["count", "int"]],
  storage: [["free", "bool", false], ["gigabyte_hours", "float"]],
};

/** `BillingUsageEvent.model_dump(mode="json")`; unknown payload types pass through unchanged. */
export function dumpBillingEvent(e: Raw): Value {
  const info = (e?.event_info ?? null) as Raw;
  let eventInfo: Value = info as Value;
  const fields = typeof info?.type === "string" ? BILLING_PAYLOADS[info.type] : undefined;
  if (info && fields) {
    const out: Record<string, Value> = { type: info.type as string };
    for (const [name, kind, fallback] of fields) {
      const v = info[name] === undefined ? fallback : info[name];
      out[name] = kind === "float" ? float(v) : opt(v);
    }
    eventInfo = out;
  }
  return {
    bucket_start: pydanticIso(e?.bucket_start),
    bucket_end: pydanticIso(e?.bucket_end),
    base_model: opt(e?.base_model),
    user_id: opt(e?.user_id),
    user_name: opt(e?.user_name),
    session_id: opt(e?.session_id),
    project_id: opt(e?.project_id),
    estimated_cost_usd: float(e?.estimated_cost_usd),
    effective_rate_usd_per_million_tokens: float(e?.effective_rate_usd_per_million_tokens),
    effective_rate_usd_per_gigabyte_month: float(e?.effective_rate_usd_per_gigabyte_month),
    event_info: eventInfo,
  };
}

/** `CurrentCheckpointStorageUsageItem.model_dump(mode="json")`. */
export function dumpStorageItem(i: Raw): Value {
  return {
    project_id: opt(i?.project_id),
    org_user_urn: opt(i?.org_user_urn),
    user_email: opt(i?.user_email),
    user_name: opt(i?.user_name),
    checkpoint_count: opt(i?.checkpoint_count),
    size_bytes: opt(i?.size_bytes),
    size_gigabytes: float(i?.size_gigabytes),
    estimated_monthly_cost_usd: float(i?.estimated_monthly_cost_usd),
  };
}

/** Wraps a raw number as a Python float (`null`/absent stay `null`). */
export function asFloat(v: unknown): Value {
  return float(v);
}
