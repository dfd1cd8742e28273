"""Trains and samples on a TuFT server through its own pinned official SDK (0.25).

    .venv-tuft/bin/python tests/interop/train_sample.py BASE_URL MODEL KEY

The same calls as the training-and-sampling step of tuft_test.ts: a LoRA
training client, forward_backward (cross_entropy, one datum), optim_step,
save_state, save_weights_for_sampler, a sampler of those weights and one of the
base model, sample and compute_logprobs. Prints the results as one JSON object.
"""

from __future__ import annotations

import json
import sys
import warnings

warnings.simplefilter("ignore")

import tinker  # noqa: E402
from tinker import types  # noqa: E402

base_url, model, key = sys.argv[1:4]
service = tinker.ServiceClient(base_url=base_url, api_key=key)
training = service.create_lora_training_client(base_model=model, rank=8)
tokens = [9906, 11, 1917, 0]
datum = types.Datum(
    model_input=types.ModelInput.from_ints(tokens[:-1]),
    loss_fn_inputs={"target_tokens": tokens[1:], "weights": [0.0, 1.0, 1.0]},
)
fwdbwd = training.forward_backward([datum], "cross_entropy").result()
optim = training.optim_step(types.AdamParams(learning_rate=1e-4)).result()
state = training.save_state("trained").result()
weights = training.save_weights_for_sampler("trained").result()
sampler = service.create_sampling_client(model_path=weights.path)
params = types.SamplingParams(max_tokens=4)
sampled = sampler.sample(types.ModelInput.from_ints([1, 2, 3]), 2, params).result()
logprobs = sampler.compute_logprobs(types.ModelInput.from_ints([1, 2, 3, 4])).result()
base = service.create_sampling_client(base_model=model)
base_params = types.SamplingParams(max_tokens=3)
base_sampled = base.sample(types.ModelInput.from_ints([1, 2, 3]), 1, base_params).result()


def sequences(response):
    return [{"tokens": s.tokens, "logprobs": s.logprobs, "stop_reason": s.stop_reason} for s in response.sequences]


json.dump(
    {
        "forward_backward": {
            "loss_fn_output_type": fwdbwd.loss_fn_output_type,
            "loss_fn_outputs": [
                {k: {"dtype": v.dtype, "shape": v.shape} for k, v in out.items()}
                for out in fwdbwd.loss_fn_outputs
            ],
            "metrics": sorted(fwdbwd.metrics),
        },
        "optim_step": optim.metrics,
        "state": state.path,
        "weights": weights.path,
        "model_id": training.model_id,
        "sample": sequences(sampled),
        "compute_logprobs": logprobs,
        "base_sample": sequences(base_sampled),
    },
    sys.stdout,
)
print()
