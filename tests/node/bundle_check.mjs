// spawnFakeTinker from a single-file bundle (`bun build --target=node`): the
// fake's script is not beside the bundled code, so it is found in the
// installed package. Run by tests/node/run.ts, after bundling.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RestClient } from "@tinker-ts/tinker";
import { FAKE_IDS, spawnFakeTinker } from "@tinker-ts/tinker/testing";

test("spawnFakeTinker works from a bundle", async () => {
  const fake = await spawnFakeTinker();
  try {
    const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    assert.equal(
      (await rest.getTrainingRun(FAKE_IDS.run)).training_run_id,
      FAKE_IDS.run,
    );
    assert.equal((await fake.requests()).length > 0, true);
  } finally {
    await fake.close();
  }
});
