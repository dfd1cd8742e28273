// Response checks of sessions, models and server-side futures: only the
// clients that read them (ServiceClient, TrainingClient) carry them.

import { bool, int, nullable, obj, once, opt, req, type Schema, str } from "./_schema.ts";

const schema = (name: string, check: Schema["check"]): Schema => ({ name, check });

/** The answer of a request that returns a server-side future. */
export const UNTYPED_API_FUTURE: Schema = /* @__PURE__ */ schema(
  "UntypedAPIFuture",
  /* @__PURE__ */ once(() => obj({ request_id: req(str), model_id: opt(nullable(str)) })),
);

/** Any `retrieve_future` reply is an object; its kind is read from its fields. */
export const FUTURE_REPLY: Schema = /* @__PURE__ */ schema(
  "FutureReply",
  /* @__PURE__ */ once(() => obj({})),
);

/** `POST /api/v1/create_session`. */
export const CREATE_SESSION_RESPONSE: Schema = /* @__PURE__ */ schema(
  "CreateSessionResponse",
  /* @__PURE__ */ once(() =>
    obj({
      session_id: req(str),
      info_message: opt(nullable(str)),
      warning_message: opt(nullable(str)),
      error_message: opt(nullable(str)),
    })
  ),
);

/** `POST /api/v1/get_info`. */
export const GET_INFO_RESPONSE: Schema = /* @__PURE__ */ schema(
  "GetInfoResponse",
  /* @__PURE__ */ once(() =>
    obj({
      model_data: req(obj({
        arch: opt(nullable(str)),
        model_name: opt(nullable(str)),
        tokenizer_id: opt(nullable(str)),
      })),
      model_id: req(str),
      optimizer_config: opt(obj({ type: opt(str) })),
      is_lora: opt(nullable(bool)),
      lora_rank: opt(nullable(int)),
      model_name: opt(nullable(str)),
    })
  ),
);

/** The result of `load_weights`. */
export const LOAD_WEIGHTS_RESPONSE: Schema = /* @__PURE__ */ schema(
  "LoadWeightsResponse",
  /* @__PURE__ */ once(() => obj({ path: opt(nullable(str)), model_id: opt(nullable(str)) })),
);

/** The result of `save_weights_external`. */
export const SAVE_WEIGHTS_EXTERNAL_RESPONSE: Schema = /* @__PURE__ */ schema(
  "SaveWeightsExternalResponse",
  /* @__PURE__ */ once(() => obj({ path: req(str), size_bytes: opt(nullable(int)) })),
);
