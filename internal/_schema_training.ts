// Response checks of the training client's calls (create_model, forward /
// forward_backward in JSON, optim_step, save/load state, sampler weights):
// only the clients that make those calls carry them. Marked pure: a program
// that uses only RestClient bundles none of this.

import {
  dict,
  int,
  list,
  nullable,
  num,
  obj,
  once,
  opt,
  req,
  type Schema,
  str,
} from "./_schema.ts";

/** The result of `create_model`. */
export const CREATE_MODEL_RESPONSE: Schema = {
  name: "CreateModelResponse",
  check: /* @__PURE__ */ once(() => obj({ model_id: req(str) })),
};

/** A tensor in JSON (`{data, dtype, shape}`), as forward_backward results carry them. */
const TENSOR = /* @__PURE__ */ once(() =>
  obj({
    data: req(list(num)),
    dtype: req(str),
    shape: opt(nullable(list(int))),
    sparse_crow_indices: opt(nullable(list(int))),
    sparse_col_indices: opt(nullable(list(int))),
  })
);

/** A forward / forward_backward result in JSON (servers that do not answer in protobuf). */
export const FORWARD_BACKWARD_OUTPUT: Schema = {
  name: "ForwardBackwardOutput",
  check: /* @__PURE__ */ once(() =>
    obj({
      loss_fn_output_type: opt(str),
      loss_fn_outputs: req(list(dict(TENSOR()))),
      metrics: req(dict(num)),
    })
  ),
};

/** The result of `optim_step`. */
export const OPTIM_STEP_RESPONSE: Schema = {
  name: "OptimStepResponse",
  check: /* @__PURE__ */ once(() => obj({ metrics: opt(nullable(dict(num))) })),
};

/** The result of `save_weights` (`saveState`). */
export const SAVE_WEIGHTS_RESPONSE: Schema = {
  name: "SaveWeightsResponse",
  check: /* @__PURE__ */ once(() => obj({ path: req(str) })),
};

/** The result of `save_weights_for_sampler`: a path, or a sampling session for an unnamed save. */
export const SAVE_WEIGHTS_FOR_SAMPLER_RESPONSE: Schema = {
  name: "SaveWeightsForSamplerResponse",
  check: /* @__PURE__ */ once(() =>
    obj({ path: opt(nullable(str)), sampling_session_id: opt(nullable(str)) })
  ),
};
