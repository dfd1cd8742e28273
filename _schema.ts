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
 * Checks `value`, found at `key` of the value at the dotted path `base`
 * (`key` is an array index or `""` for the body). The path is only joined
 * when something fails: a listing has thousands of fields to check.
 */
export type Check = (value: unknown, base: string, key: string | number) => void;

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

function fail(base: string, key: string | number, expected: string, value: unknown): never {
  throw new SchemaIssue(at(base, key), `must be ${expected}, got ${describe(value)}`);
}

export const str: Check = (v, b, k) => {
  if (typeof v !== "string") fail(b, k, "a string", v);
};
export const bool: Check = (v, b, k) => {
  if (typeof v !== "boolean") fail(b, k, "a boolean", v);
};
export const int: Check = (v, b, k) => {
  if (typeof v !== "number" || !Number.isInteger(v)) fail(b, k, "an integer", v);
};
export const num: Check = (v, b, k) => {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(b, k, "a number", v);
};
/**
 * The date-times servers send (`toISOString()`, Python's `isoformat()`), with
 * days only up to 28 (every month has them): `Date.parse` accepts each string
 * this matches, so for most values this test, a fraction of the cost of
 * `Date.parse`, decides alone. Anything else is left to `Date.parse`.
 */
const COMMON_DATETIME =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{3}|\.\d{6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const datetime: Check = (v, b, k) => {
  if (typeof v !== "string" || (!COMMON_DATETIME.test(v) && Number.isNaN(Date.parse(v)))) {
    fail(b, k, "an ISO-8601 date-time string", v);
  }
};
const oneOf = (...values: string[]): Check => (v, b, k) => {
  if (typeof v !== "string" || !values.includes(v)) {
    fail(b, k, `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`, v);
  }
};
export const nullable = (check: Check): Check => (v, b, k) => {
  if (v !== null) check(v, b, k);
};
export const list = (check: Check): Check => (v, b, k) => {
  if (!Array.isArray(v)) fail(b, k, "an array", v);
  const path = at(b, k);
  for (let i = 0; i < v.length; i++) check(v[i], path, i);
};
export const dict = (check: Check): Check => (v, b, k) => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(b, k, "an object", v);
  const path = at(b, k);
  for (const name of Object.keys(v)) check((v as Record<string, unknown>)[name], path, name);
};

/** A field spec: `[check, required]`; optional fields may be absent. */
type Fields = Record<string, [Check, boolean]>;
export const req = (check: Check): [Check, boolean] => [check, true];
export const opt = (check: Check): [Check, boolean] => [check, false];

export const obj = (fields: Fields): Check => {
  const names = Object.keys(fields);
  const checks = names.map((name) => fields[name]![0]);
  const required = names.map((name) => fields[name]![1]);
  return (v, b, k) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) fail(b, k, "an object", v);
    const record = v as Record<string, unknown>;
    const path = at(b, k);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const value = record[name];
      // One lookup for a field that is there (JSON has no undefined values).
      if (value === undefined && !(name in record)) {
        if (required[i]) throw new SchemaIssue(at(path, name), "is missing");
        continue;
      }
      checks[i]!(value, path, name);
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
  return (v, b, k) => {
    eventType(v, b, k);
    // An event type this client does not know yet is kept as sent.
    const type = (v as { type: string }).type;
    if (Object.hasOwn(payloads, type)) payloads[type]!(v, b, k);
  };
});

/** Every response type the client validates, by name: how to build its check. */
const SCHEMAS = {
  TrainingRun: trainingRun,
  TrainingRunsResponse: once(() =>
    obj({
      training_runs: req(list(trainingRun())),
      cursor: req(cursor()),
    })
  ),
  CheckpointsListResponse: once(() =>
    obj({
      checkpoints: req(list(checkpoint())),
      cursor: opt(nullable(cursor())),
    })
  ),
  WeightsInfoResponse: once(() =>
    obj({
      base_model: req(str),
      is_lora: req(bool),
      lora_rank: opt(nullable(int)),
      train_unembed: opt(nullable(bool)),
      train_mlp: opt(nullable(bool)),
      train_attn: opt(nullable(bool)),
      optimizer_config: opt(obj({ type: req(str) })),
    })
  ),
  CheckpointArchiveUrlResponse: once(() =>
    obj({
      url: req(str),
      expires: req((v, b, k) => {
        if (typeof v !== "number") datetime(v, b, k);
      }),
    })
  ),
  GetSessionResponse: once(() =>
    obj({
      training_run_ids: req(list(str)),
      sampler_ids: req(list(str)),
      user_metadata: opt(nullable(dict(str))),
      display_name: opt(nullable(str)),
    })
  ),
  ListSessionsResponse: once(() => obj({ sessions: req(list(str)) })),
  GetSamplerResponse: once(() =>
    obj({
      sampler_id: req(str),
      base_model: req(str),
      model_path: opt(nullable(str)),
    })
  ),
  AuditLogResponse: once(() =>
    obj({
      entries: req(list(obj({
        timestamp: req(datetime),
        event: req(str),
        model_id: opt(nullable(str)),
        tinker_path: opt(nullable(str)),
        purpose: opt(nullable(str)),
        event_details: opt(dict(() => {})),
      }))),
    })
  ),
  BillingUsageResponse: once(() =>
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
    })
  ),
  ExternalWeightsUrlsResponse: once(() =>
    obj({
      urls: req(dict(str)),
      expires: req(datetime),
    })
  ),
  GetServerCapabilitiesResponse: once(() =>
    obj({
      supported_models: req(list(obj({
        model_name: opt(nullable(str)),
        max_context_length: opt(nullable(int)),
        trainable: opt(nullable(bool)),
        sampleable: opt(nullable(bool)),
      }))),
    })
  ),
  CopyWeightsResponse: once(() => obj({ tinker_path: req(str) })),
  CurrentCheckpointStorageUsageResponse: once(() =>
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
    })
  ),
  SessionSearchResponse: once(() =>
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
    })
  ),
  ClientConfig: once(() =>
    obj({
      pjwt_auth_enabled: opt(bool),
      credential_default_source: opt(str),
    })
  ),
  AuthToken: once(() => obj({ jwt: req(str) })),
  TraceExport: once(() =>
    obj({
      status: req(oneOf("pending", "ready", "failed")),
      url: opt(nullable(str)),
      error: opt(nullable(str)),
    })
  ),
} satisfies Record<string, () => Check>;

/** The name of a response type in {@linkcode SCHEMAS}. */
export type SchemaName = keyof typeof SCHEMAS;

/**
/**
 * A response type kept outside {@linkcode SCHEMAS} (in the module of the
 * client that reads it, so clients that do not carry only their own checks).
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
  const check = (typeof schema === "string" ? SCHEMAS[schema] : schema.check)();
  if (redact === undefined) return check(value, "", "");
  clean = redact;
  try {
    check(value, "", "");
  } finally {
    clean = (text) => text;
  }
}

/** The name of `schema`, for messages. */
export function schemaName(schema: SchemaName | Schema): string {
  return typeof schema === "string" ? schema : schema.name;
}
