/**
 * Conformance scenarios of sessions and server-side futures (SDK 0.38's
 * `ServiceClient` and `TrainingClient`): the export flow of
 * `tinker checkpoint download` (`create_training_client_from_state`,
 * `save_weights_external`, `close`), futures answered `try_again` (200) or
 * held and answered 408, and failed futures.
 *
 * @module
 */
import type { TrainingClient } from "../mod.ts";
import { FAKE_IDS, type FakeTinkerOptions } from "../testing/mod.ts";
import type { Clients, PyStep, Scenario, Step } from "./scenarios.ts";

const CKPT = FAKE_IDS.checkpointPath;
const METADATA = { created_by: "tinker checkpoint download" };
const step = (py: PyStep, ts: (c: Clients) => unknown): Step => ({ py, ts });

const fromState = (path = CKPT) =>
  step(
    {
      call: "service.create_training_client_from_state",
      args: [path],
      kwargs: { user_metadata: METADATA },
      save: "training",
    },
    async (c) => {
      const training = await c.service.createTrainingClientFromState(path, {
        userMetadata: METADATA,
      });
      c.saved.set("training", training);
      return training.getInfo();
    },
  );
const saveExternal = step(
  { call: "training.save_weights_external", args: ["download"], kwargs: { ttl_seconds: 3600 } },
  (c) =>
    (c.saved.get("training") as TrainingClient).saveWeightsExternal("download", {
      ttlSeconds: 3600,
    }),
);
const close = (status: "success" | "errored") =>
  step({ call: "service.close", args: [status] }, (c) => c.service.close(status));

const exportFlow = (name: string, fake: FakeTinkerOptions = {}): Scenario => ({
  name,
  fake,
  tags: ["export-response"],
  steps: [fromState(), saveExternal, close("success")],
});

/** The session scenarios, run after the REST ones. */
export const SESSION_SCENARIOS: readonly Scenario[] = [
  {
    // ServiceClient.copy_weights is the REST client's, into the client's project (here from
    // TINKER_PROJECT_ID: the driver's ServiceClient takes no project_id); no session of ours.
    name: "session: service copy_weights (project from TINKER_PROJECT_ID, ttl, token)",
    env: { TINKER_PROJECT_ID: "proj-archive" },
    steps: [
      step(
        {
          call: "service.copy_weights",
          args: [CKPT],
          kwargs: { ttl_seconds: 7200, weights_access_token: "tml-weights-token" },
        },
        (c) =>
          c.service.copyWeights(CKPT, {
            ttlSeconds: 7200,
            weightsAccessToken: "tml-weights-token",
          }),
      ),
    ],
  },
  exportFlow("session: create_training_client_from_state + save_weights_external + close"),
  exportFlow("session: futures answered try_again twice (paused_capacity)", {
    futureTryAgainCount: 2,
    futureQueueState: "paused_capacity",
  }),
  {
    // The hosted service's answer to a poll of a pending future (held polls make it timing-bound
    // in the fake, so here it is injected: twice, then the result).
    ...exportFlow("session: futures answered 408 try_again twice, then the result"),
    prepare: (fake) =>
      fake.inject({
        path: "/api/v1/retrieve_future",
        status: 408,
        body: { type: "try_again", request_id: "pending", queue_state: "active" },
        times: 2,
      }),
  },
  {
    name: "session: a failed future (save_weights_external), close errored",
    fake: {
      futureFailure: { error: "disk full", category: "server", requestType: "SaveWeightsExternal" },
    },
    steps: [fromState(), saveExternal, close("errored")],
  },
  {
    name: "session: a failed future (load_weights of a missing checkpoint)",
    steps: [fromState(CKPT.replace("000010", "999999")), close("errored")],
  },
];
