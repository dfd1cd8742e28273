"""Runs every RestClient (and AdminClient) method of the official Python SDK against a
running fake Tinker server, so the SDK's strict pydantic validation vets the fake's JSON.

    npx -y deno@2.9.6 run -A testing/serve.ts '{"jwtAuth":true}' &   # prints {"url":...,"apiKey":...}
    .venv/bin/python testing/sdk_smoke.py http://127.0.0.1:PORT tml-fake-key-0123456789abcdef

Exits non-zero on the first failure. Starts nothing itself; it only turns the fake's
trace export to "ready at once" through the /_fake/options admin endpoint.
"""

from __future__ import annotations

import json
import sys
import urllib.request
import warnings
from datetime import date

import tinker
from tinker import types

warnings.simplefilter("ignore", FutureWarning)  # create_rest_client and the admin methods are deprecated in 0.38

base_url, api_key = sys.argv[1], sys.argv[2]
urllib.request.urlopen(
    urllib.request.Request(
        f"{base_url}/_fake/options", data=json.dumps({"tracePendingCount": 0}).encode(), method="POST"
    )
)

rest = tinker.ServiceClient(base_url=base_url, api_key=api_key).create_rest_client()
admin = tinker.AdminClient(base_url=base_url, api_key=api_key)
checked: list[str] = []


def check(name: str, value: object, kind: type | None = None) -> object:
    if kind is not None:
        assert isinstance(value, kind), f"{name}: got {type(value).__name__}"
    checked.append(name)
    print(f"ok  {name}")
    return value


def expect_error(name: str, error: type[Exception], call) -> None:
    try:
        call()
    except error:
        check(name, None)
        return
    raise AssertionError(f"{name}: expected {error.__name__}")


caps = check("get_server_capabilities", rest.get_server_capabilities().result(), types.GetServerCapabilitiesResponse)
assert caps.supported_models

runs = check("list_training_runs", rest.list_training_runs(limit=50).result(), types.TrainingRunsResponse)
assert runs.cursor.total_count >= len(runs.training_runs) > 0
check(
    "list_training_runs(accessible, project)",
    rest.list_training_runs(limit=5, offset=1, access_scope="accessible", project_id="proj-alpha").result(),
    types.TrainingRunsResponse,
)
run = next(r for r in runs.training_runs if r.last_checkpoint and r.last_sampler_checkpoint)
run_id = run.training_run_id
check("get_training_run", rest.get_training_run(run_id).result(), types.TrainingRun)
check("get_training_run(accessible)", rest.get_training_run(run_id, access_scope="accessible").result(), types.TrainingRun)
training_path = run.last_checkpoint.tinker_path
sampler_path = run.last_sampler_checkpoint.tinker_path
check("get_training_run_by_tinker_path", rest.get_training_run_by_tinker_path(training_path).result(), types.TrainingRun)
expect_error("get_training_run(unknown) -> NotFoundError", tinker.NotFoundError, lambda: rest.get_training_run("nope:train:0").result())

check("get_weights_info_by_tinker_path", rest.get_weights_info_by_tinker_path(training_path).result(), types.WeightsInfoResponse)
ckpts = check("list_checkpoints", rest.list_checkpoints(run_id).result(), types.CheckpointsListResponse)
assert ckpts.cursor is None and ckpts.checkpoints
user_ckpts = check("list_user_checkpoints", rest.list_user_checkpoints(limit=100, offset=0).result(), types.CheckpointsListResponse)
assert user_ckpts.cursor is not None and user_ckpts.cursor.total_count > 100

private = next(c for c in user_ckpts.checkpoints if not c.public)
check("publish_checkpoint_from_tinker_path", rest.publish_checkpoint_from_tinker_path(private.tinker_path).result())
check("unpublish_checkpoint_from_tinker_path", rest.unpublish_checkpoint_from_tinker_path(private.tinker_path).result())
check("set_checkpoint_ttl_from_tinker_path(86400)", rest.set_checkpoint_ttl_from_tinker_path(private.tinker_path, 86400).result())
check("set_checkpoint_ttl_from_tinker_path(None)", rest.set_checkpoint_ttl_from_tinker_path(private.tinker_path, None).result())
copied = check("copy_weights", rest.copy_weights(sampler_path, "proj-archive", ttl_seconds=7200).result(), str)
assert copied.startswith("tinker://")
check("delete_checkpoint_from_tinker_path", rest.delete_checkpoint_from_tinker_path(copied).result())
victim = user_ckpts.checkpoints[-1]
check("delete_checkpoint", rest.delete_checkpoint(victim.tinker_path.split("/")[2], victim.checkpoint_id).result())
external = next(
    c
    for r in runs.training_runs
    for c in rest.list_checkpoints(r.training_run_id).result().checkpoints
    if c.checkpoint_type == "external"
)
check("get_external_weights_urls", rest.get_external_weights_urls(external.tinker_path).result(), types.ExternalWeightsUrlsResponse)
expect_error(
    "get_external_weights_urls(no such export) -> NotFoundError",
    tinker.NotFoundError,
    lambda: rest.get_external_weights_urls(f"tinker://{run_id}/external_weights/none").result(),
)

sessions = check("list_sessions", rest.list_sessions(limit=20, offset=0).result(), types.ListSessionsResponse)
check("list_sessions(accessible)", rest.list_sessions(access_scope="accessible").result(), types.ListSessionsResponse)
session_id = run_id.split(":")[0]  # hosted run ids are <session-id>:train:<n>
session = check("get_session", rest.get_session(session_id).result(), types.GetSessionResponse)
assert run_id in session.training_run_ids
check("assign_session_project", rest.assign_session_project(session_id, "proj-beta").result())
check("export_session_trace", rest.export_session_trace(session_id).result(), str)
sampler_id = next(i for sid in sessions.sessions for i in rest.get_session(sid).result().sampler_ids)
check("get_sampler", rest.get_sampler(sampler_id).result(), types.GetSamplerResponse)
found = check("search_sessions", rest.search_sessions(types.SessionSearchRequest(limit=3)).result(), types.SessionSearchResponse)
assert found.next_cursor is not None
check(
    "search_sessions(next page)",
    rest.search_sessions(types.SessionSearchRequest(limit=3, cursor=found.next_cursor)).result(),
    types.SessionSearchResponse,
)

me = check("whoami", rest.whoami().result(), types.WhoamiResponse)
assert me.email == "ada@example.com" and me.user_urn.startswith("tml:organization_user:")

check("get_audit_log", rest.get_audit_log().result(), types.AuditLogResponse)
audit = check("AdminClient.get_audit_log(checkpoints, day)", admin.get_audit_log("checkpoints", date(2026, 9, 13)).result(), types.AuditLogResponse)
assert audit.entries
usage = check(
    "get_billing_usage",
    rest.get_billing_usage("2026-07-13T00:00:00Z", "2026-07-14T00:00:00Z").result(),
    types.BillingUsageResponse,
)
assert {e.event_info.type for e in usage.data} == {"training", "sampling_prefill", "sampling_sample", "checkpoint", "storage"}
check(
    "AdminClient.get_current_checkpoint_storage_usage",
    admin.get_current_checkpoint_storage_usage().result(),
    types.CurrentCheckpointStorageUsageResponse,
)

print(f"all {len(checked)} SDK calls parsed")
