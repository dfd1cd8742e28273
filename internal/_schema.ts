// Response validation: checks a parsed JSON body against its documented type
// and names the first field that does not match. Unknown fields are kept.

/** A failed check: the dotted path of the field and what was wrong. */
export class SchemaIssue extends Error {
  constructor(readonly field: string, readonly problem: string) {
    super(`Response field "${field || "(body)"}" ${problem}`);
  }
}

/** Makes server text safe to quote in an error (redacts secrets); applied before any cut. */
type Clean = (text: string) => string;
let clean: Clean = (text) => text;

/**
 * Checks a value; throws a {@linkcode Failure} when it does not match. Where
 * the value sits is added to the failure on its way up (containers catch and
 * rethrow it): a listing has thousands of values to check, and none of their
 * paths is needed unless one fails.
 */
export type Check = (value: unknown) => void;

/**
 * A failed check on its way up to {@linkcode validate}: what was wrong, and
 * the keys (array indexes, field names) from the failing value up to the body.
 */
class Failure {
  readonly keys: (string | number)[] = [];
  constructor(readonly problem: string) {}

  /** The dotted path of the failing value: `checkpoints[3].time`. */
  field(): string {
    let path = "";
    for (let i = this.keys.length - 1; i >= 0; i--) path = at(path, this.keys[i]!);
    return path;
  }
}

/** `error`, when it is a {@linkcode Failure}, noted as found under `key`. */
function within(error: unknown, key: string | number): unknown {
  if (error instanceof Failure) error.keys.push(key);
  return error;
}

/** The dotted path of `key` under `base`: `checkpoints[3].time`. */
function at(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base && key ? `${base}.${key}` : base || key;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    // Redacted before the cut: a secret straddling character 40 leaves no fragment.
    return `the string ${JSON.stringify(clean(value).slice(0, 40))}`;
  }
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

function fail(expected: string, value: unknown): never {
  throw new Failure(`must be ${expected}, got ${describe(value)}`);
}

export const str: Check = (v) => {
  if (typeof v !== "string") fail("a string", v);
};
export const bool: Check = (v) => {
  if (typeof v !== "boolean") fail("a boolean", v);
};
/** Pydantic's `int` of a JSON number: whole, and within ±2^63 (it refuses `1e300`). */
export const int: Check = (v) => {
  if (typeof v !== "number" || !Number.isInteger(v)) fail("an integer", v);
  if (Math.abs(v) >= 2 ** 63) fail("an integer within ±2^63", v);
};
export const num: Check = (v) => {
  if (typeof v !== "number" || !Number.isFinite(v)) fail("a number", v);
};
/**
 * The date-times servers send (`toISOString()`, Python's `isoformat()`), with
 * days only up to 28 (every month has them): `Date.parse` accepts each string
 * this matches, so for most values this test, a fraction of the cost of
 * `Date.parse` once compiled, decides alone. Anything else is left to `Date.parse`.
 */
const COMMON_DATETIME =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{3}|\.\d{6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
/**
 * Date-times `Date.parse` checks alone before {@linkcode COMMON_DATETIME}
 * goes first: compiling the regex costs as much as parsing ~80 values cold
 * (a short listing in a CLI command), and it saves 0.1–0.2 µs a value once
 * warm (long listings). Either way a value passes exactly when `Date.parse`
 * accepts it.
 */
const PARSE_ONLY_FIRST = 512;
let datetimesChecked = 0;
const datetime: Check = (v) => {
  if (typeof v !== "string") fail("an ISO-8601 date-time string", v);
  if (datetimesChecked < PARSE_ONLY_FIRST) datetimesChecked++;
  else if (COMMON_DATETIME.test(v)) return;
  if (Number.isNaN(Date.parse(v))) fail("an ISO-8601 date-time string", v);
};
export const oneOf = (...values: string[]): Check => (v) => {
  if (typeof v !== "string" || !values.includes(v)) {
    fail(`one of ${values.map((x) => JSON.stringify(x)).join(", ")}`, v);
  }
};
/** A check made by {@linkcode nullable}: passes null, else runs `inner`. */
type NullableCheck = Check & { inner?: Check };
export const nullable = (check: Check): Check => {
  const wrapped: NullableCheck = (v) => {
    if (v !== null) check(v);
  };
  wrapped.inner = check;
  return wrapped;
};
export const list = (check: Check): Check => (v) => {
  if (!Array.isArray(v)) fail("an array", v);
  for (let i = 0; i < v.length; i++) {
    try {
      check(v[i]);
    } catch (error) {
      throw within(error, i);
    }
  }
};
export const dict = (check: Check): Check => (v) => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail("an object", v);
  for (const name of Object.keys(v)) {
    try {
      check((v as Record<string, unknown>)[name]);
    } catch (error) {
      throw within(error, name);
    }
  }
};

/** A field spec: `[check, required]`; optional fields may be absent. */
type Fields = Record<string, [Check, boolean]>;
export const req = (check: Check): [Check, boolean] => [check, true];
export const opt = (check: Check): [Check, boolean] => [check, false];

/** The `typeof` a value passes `check` by when that is all it tests ({@linkcode str}, {@linkcode bool}). */
const typeOf = (check: Check) => check === str ? "string" : check === bool ? "boolean" : undefined;

export const obj = (fields: Fields): Check => {
  const names = Object.keys(fields);
  // Per field, prepared once: its check (`nullable` unwrapped: null is
  // passed here), and for `str` and `bool` the `typeof` that passes them
  // without a call (the check itself runs when it does not, to fail).
  const checks: Check[] = [];
  const required: boolean[] = [];
  const nullOk: boolean[] = [];
  const types: (string | undefined)[] = [];
  for (const name of names) {
    const [check, isRequired] = fields[name]!;
    const inner = (check as NullableCheck).inner;
    checks.push(inner ?? check);
    required.push(isRequired);
    nullOk.push(inner !== undefined);
    types.push(typeOf(inner ?? check));
  }
  return (v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) fail("an object", v);
    const record = v as Record<string, unknown>;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const value = record[name];
      // One lookup for a field that is there (JSON has no undefined values).
      if (value === undefined && !(name in record)) {
        if (required[i]) throw within(new Failure("is missing"), name);
        continue;
      }
      if ((value === null && nullOk[i]) || typeof value === types[i]) continue;
      try {
        checks[i]!(value);
      } catch (error) {
        throw within(error, name);
      }
    }
  };
};

/**
 * A check built on first use, then kept. Building every type's check when
 * the module loads took ~0.6 ms of cold code in a compiled CLI binary, at
 * every start; a process validates two or three types.
 */
export const once = (build: () => Check): () => Check => {
  let check: Check | undefined;
  return () => check ??= build();
};

const cursor = once(() =>
  obj({
    offset: req(int),
    limit: req(int),
    total_count: req(int),
  })
);

const checkpoint = once(() =>
  obj({
    checkpoint_id: req(str),
    checkpoint_type: req(oneOf("training", "sampler", "external")),
    time: req(datetime),
    tinker_path: req(str),
    size_bytes: opt(nullable(int)),
    public: opt(bool),
    user_metadata: opt(nullable(dict(str))),
    expires_at: opt(nullable(datetime)),
  })
);

const trainingRun = once(() =>
  obj({
    training_run_id: req(str),
    base_model: req(str),
    model_owner: req(str),
    is_lora: req(bool),
    corrupted: opt(bool),
    lora_rank: opt(nullable(int)),
    last_request_time: req(datetime),
    last_checkpoint: opt(nullable(checkpoint())),
    last_sampler_checkpoint: opt(nullable(checkpoint())),
    user_metadata: opt(nullable(dict(str))),
  })
);

const eventInfo = once(() => {
  const eventType = obj({ type: req(str) });
  const payloads: Record<string, Check> = {
    training: obj({ token_count: req(int) }),
    sampling_prefill: obj({ cached: req(bool), token_count: req(int) }),
    sampling_sample: obj({ token_count: req(int) }),
    checkpoint: obj({ count: req(int) }),
    storage: obj({ free: opt(bool), gigabyte_hours: req(num) }),
  };
  return (v) => {
    eventType(v);
    // An event type this client does not know yet is kept as sent.
    const type = (v as { type: string }).type;
    if (Object.hasOwn(payloads, type)) payloads[type]!(v);
  };
});

/**
 * Every response type the client validates, by name: how to build its check
 * (built on first use, then kept in `built`).
 */
const SCHEMAS = {
  TrainingRun: trainingRun,
  TrainingRunsResponse: () =>
    obj({
      training_runs: req(list(trainingRun())),
      cursor: req(cursor()),
    }),
  CheckpointsListResponse: () =>
    obj({
      checkpoints: req(list(checkpoint())),
      cursor: opt(nullable(cursor())),
    }),
  WeightsInfoResponse: () =>
    obj({
      base_model: req(str),
      is_lora: req(bool),
      lora_rank: opt(nullable(int)),
      train_unembed: opt(nullable(bool)),
      train_mlp: opt(nullable(bool)),
      train_attn: opt(nullable(bool)),
      optimizer_config: opt(obj({ type: req(str) })),
    }),
  CheckpointArchiveUrlResponse: () =>
    obj({
      url: req(str),
      expires: req((v) => {
        if (typeof v !== "number") datetime(v);
      }),
    }),
  GetSessionResponse: () =>
    obj({
      training_run_ids: req(list(str)),
      sampler_ids: req(list(str)),
      user_metadata: opt(nullable(dict(str))),
      display_name: opt(nullable(str)),
    }),
  ListSessionsResponse: () => obj({ sessions: req(list(str)) }),
  GetSamplerResponse: () =>
    obj({
      sampler_id: req(str),
      base_model: req(str),
      model_path: opt(nullable(str)),
    }),
  AuditLogResponse: () =>
    obj({
      entries: req(list(obj({
        timestamp: req(datetime),
        event: req(str),
        model_id: opt(nullable(str)),
        tinker_path: opt(nullable(str)),
        purpose: opt(nullable(str)),
        event_details: opt(dict(() => {})),
      }))),
    }),
  BillingUsageResponse: () =>
    obj({
      data: req(list(obj({
        bucket_start: req(datetime),
        bucket_end: req(datetime),
        base_model: opt(nullable(str)),
        user_id: opt(nullable(str)),
        user_name: opt(nullable(str)),
        session_id: opt(nullable(str)),
        project_id: opt(nullable(str)),
        estimated_cost_usd: opt(nullable(num)),
        effective_rate_usd_per_million_tokens: opt(nullable(num)),
        effective_rate_usd_per_gigabyte_month: opt(nullable(num)),
        event_info: req(eventInfo()),
      }))),
      sessions: opt(dict(obj({ user_metadata: opt(nullable(dict(str))) }))),
      cost_data_through: opt(nullable(datetime)),
    }),
  ExternalWeightsUrlsResponse: () =>
    obj({
      urls: req(dict(str)),
      expires: req(datetime),
    }),
  GetServerCapabilitiesResponse: () =>
    obj({
      supported_models: req(list(obj({
        model_name: opt(nullable(str)),
        max_context_length: opt(nullable(int)),
        trainable: opt(nullable(bool)),
        sampleable: opt(nullable(bool)),
      }))),
    }),
  CopyWeightsResponse: () => obj({ tinker_path: req(str) }),
  CurrentCheckpointStorageUsageResponse: () =>
    obj({
      effective_rate_usd_per_gigabyte_month: opt(nullable(num)),
      data: req(list(obj({
        project_id: opt(nullable(str)),
        org_user_urn: opt(nullable(str)),
        user_email: opt(nullable(str)),
        user_name: opt(nullable(str)),
        checkpoint_count: req(int),
        size_bytes: req(int),
        size_gigabytes: req(num),
        estimated_monthly_cost_usd: opt(nullable(num)),
      }))),
    }),
  SessionSearchResponse: () =>
    obj({
      sessions: req(list(obj({
        session_id: req(str),
        created_at: req(datetime),
        owner: req(str),
        project_id: req(str),
        status: opt(nullable(obj({ type: req(str) }))),
        checkpoints_count: req(int),
        display_name: opt(nullable(str)),
        user_metadata: opt(nullable(dict(str))),
        checkpoint_storage_bytes: opt(nullable(int)),
      }))),
      next_cursor: opt(
        nullable(obj({ last_created_at: req(datetime), last_session_id: req(str) })),
      ),
    }),
  ClientConfig: () =>
    obj({
      pjwt_auth_enabled: opt(bool),
      credential_default_source: opt(str),
    }),
  AuthToken: () => obj({ jwt: req(str) }),
  TraceExport: () =>
    obj({
      status: req(oneOf("pending", "ready", "failed")),
      url: opt(nullable(str)),
      error: opt(nullable(str)),
    }),
} satisfies Record<string, () => Check>;

/** The name of a response type in {@linkcode SCHEMAS}. */
export type SchemaName = keyof typeof SCHEMAS;

/** The checks of {@linkcode SCHEMAS} built so far. */
const built: { [name in SchemaName]?: Check } = {};

/**
 * A response type kept outside {@linkcode SCHEMAS} (another client's or entry point's types,
 * built from the checks above, so a REST-only import carries none of them).
 */
export interface Schema {
  name: string;
  check: () => Check;
}

/**
 * Throws a {@linkcode SchemaIssue} when `value` does not match `schema`; a
 * string it quotes passes `redact` first.
 */
export function validate(schema: SchemaName | Schema, value: unknown, redact?: Clean): void {
  const check = checkOf(schema);
  if (redact !== undefined) clean = redact;
  try {
    check(value);
  } catch (error) {
    if (error instanceof Failure) throw new SchemaIssue(error.field(), error.problem);
    throw error;
  } finally {
    if (redact !== undefined) clean = (text) => text;
  }
}

/**
 * Builds the check of `schema` unless it is built already: a client does it
 * while its request is on its way, so the answer is checked sooner.
 */
export function prepare(schema: SchemaName | Schema): void {
  checkOf(schema);
}

function checkOf(schema: SchemaName | Schema): Check {
  return typeof schema === "string" ? built[schema] ??= SCHEMAS[schema]() : schema.check();
}

/** The name of `schema`, for messages. */
export function schemaName(schema: SchemaName | Schema): string {
  return typeof schema === "string" ? schema : schema.name;
}
