"""Populates a TuFT server through its own pinned official SDK (tinker 0.25).

    .venv-tuft/bin/python tests/interop/populate.py BASE_URL MODEL KEY_A KEY_B

Creates, as user A: two LoRA training runs, training checkpoints
(``save_state``), sampler weights (``save_weights_for_sampler``) and a sampler
(``create_sampling_client``); as user B: one LoRA run with one checkpoint (so
every list is checked to be per user). Prints the ids and tinker paths it
made as one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import warnings

warnings.simplefilter("ignore")

import tinker  # noqa: E402

base_url, model, key_a, key_b = sys.argv[1:5]


def run_for(service: tinker.ServiceClient, rank: int, states: list[str], samplers: list[str]):
    training = service.create_lora_training_client(base_model=model, rank=rank)
    paths = {
        "states": [training.save_state(name).result().path for name in states],
        "samplers": [training.save_weights_for_sampler(name).result().path for name in samplers],
    }
    return training, paths


service_a = tinker.ServiceClient(base_url=base_url, api_key=key_a)
training_a1, paths_a1 = run_for(service_a, 8, ["step-0001", "step-0002"], ["sampler-0001"])
sampling = training_a1.create_sampling_client(paths_a1["samplers"][0])
training_a2, paths_a2 = run_for(service_a, 4, ["final", "scratch-1", "scratch-2"], [])

service_b = tinker.ServiceClient(base_url=base_url, api_key=key_b)
training_b, paths_b = run_for(service_b, 8, ["b-0001"], [])

json.dump(
    {
        "a": {
            "runs": [training_a1.model_id, training_a2.model_id],
            "states": paths_a1["states"] + paths_a2["states"],
            "sampler_weights": paths_a1["samplers"],
            "sampler_id": sampling._sampling_session_id,
            "session_id": service_a.holder.get_session_id(),
        },
        "b": {"runs": [training_b.model_id], "states": paths_b["states"]},
    },
    sys.stdout,
)
print()
