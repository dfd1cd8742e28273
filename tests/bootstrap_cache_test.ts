// The bootstrap cache (`ClientOptions.bootstrapCache`) against the fake:
// a warm cache skips `POST /client/config`; what is stored holds no secret;
// stale, expired or malformed entries are not used; and when the server
// changed its mind (JWT auth switched on or off), the entry is dropped, the
// bootstrap runs again and the call is replayed once — reads and writes.

import assert from "node:assert/strict";
import {
  AuthenticationError,
  BOOTSTRAP_CACHE_TTL_MS,
  type BootstrapCache,
  type BootstrapCacheEntry,
  RestClient,
} from "../mod.ts";
import { FAKE_IDS, type FakeTinker, spawnFakeTinker, startFakeTinker } from "../testing/mod.ts";
import { bootstrapCacheEntry, bootstrapCacheKey } from "../internal/_bootstrap_cache.ts";
import { hmacJs, hmacSha256Hex, sha256Hex, sha256Js } from "../internal/_sha256.ts";

const CONFIG = "/api/v1/client/config";
const TOKEN = "/api/v1/auth/token";
const INVALID_TOKEN = { "www-authenticate": 'Bearer error="invalid_token"' };

/** `METHOD path` of every request the fake saw, and whether it carried a JWT. */
async function trace(fake: FakeTinker): Promise<string[]> {
  return (await fake.requests()).map((r) =>
    `${r.method} ${r.path} ${r.status}${r.headers["x-api-key"]?.startsWith("eyJ") ? " jwt" : ""}`
  );
}

function client(fake: FakeTinker, cache: BootstrapCache): RestClient {
  return new RestClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    bootstrapCache: cache,
    maxRetries: 0,
  });
}

/** A cache that has seen one bootstrap of `fake` (jwtAuth as the fake has it now). */
async function warm(fake: FakeTinker): Promise<Map<string, unknown>> {
  const cache = new Map<string, unknown>();
  await client(fake, cache).getTrainingRun(FAKE_IDS.run);
  await fake.clearLog();
  return cache;
}

const RUN_PATH = `/api/v1/training_runs/${FAKE_IDS.run}`;

Deno.test("bootstrap cache: a client with a warm cache sends its call and nothing else", async () => {
  await using fake = await startFakeTinker();
  const cache = new Map<string, unknown>();
  await client(fake, cache).getTrainingRun(FAKE_IDS.run);
  assert.deepEqual(await trace(fake), [`POST ${CONFIG} 200`, `GET ${RUN_PATH} 200`]);
  await fake.clearLog();
  await client(fake, cache).getTrainingRun(FAKE_IDS.run);
  assert.deepEqual(await trace(fake), [`GET ${RUN_PATH} 200`]);

  // One entry, under the base URL and a fingerprint; the key is nowhere in it.
  const [[key, entry]] = [...cache] as [[string, BootstrapCacheEntry]];
  assert.equal(key, bootstrapCacheKey(fake.url, fake.apiKey));
  assert.match(key, new RegExp(`^${fake.url.replace(/\./g, "\\.")} [0-9a-f]{32}$`));
  assert.ok(!key.includes(fake.apiKey) && !JSON.stringify(entry).includes(fake.apiKey));
  assert.equal(entry.version, 1);
  assert.equal(entry.config.pjwt_auth_enabled, false);
  assert.match(entry.mac, /^[0-9a-f]{64}$/);
  assert.ok(Math.abs(entry.storedAt - Date.now()) < 60_000);
});

Deno.test("bootstrap cache: the key is a domain-separated SHA-256 fingerprint, per base URL", () => {
  const key = bootstrapCacheKey("https://example.test/base/", "tml-abc");
  assert.equal(
    key,
    `https://example.test/base ${sha256Hex("tinker-ts bootstrap-cache v1\0tml-abc").slice(0, 32)}`,
  );
  assert.notEqual(key, bootstrapCacheKey("https://example.test/base", "tml-abd"));
  assert.notEqual(key, bootstrapCacheKey("https://other.test/base", "tml-abc"));
});

Deno.test("bootstrap cache: the JavaScript SHA-256 matches Web Crypto's (lengths 0-300, any UTF-8)", async () => {
  const alphabet = ["a", "Z", "0", " ", "\0", "é", "€", "😀", "\u{10ffff}", ":", "\n"];
  for (let length = 0; length <= 300; length++) {
    let text = "";
    for (let i = 0; i < length; i++) text += alphabet[(i * 7 + length * 13) % alphabet.length];
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    const want = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(sha256Js(text), want, `length ${length}`);
    if (length % 50 === 0) assert.equal(sha256Hex(text), want);
  }
});

Deno.test("bootstrap cache: the JavaScript HMAC-SHA256 matches Web Crypto's (keys of 1-150 characters)", async () => {
  for (let length = 1; length <= 150; length += 3) { // Web Crypto refuses an empty key.
    const key = "k€y".repeat(length).slice(0, length);
    const text = `message ${length} ${"é".repeat(length % 70)}`;
    const cryptoKey = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(key),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(text));
    const want = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(hmacJs(key, text), want, `key of ${length} characters`);
    assert.equal(hmacSha256Hex(key, text), want);
  }
});

Deno.test("bootstrap cache: entries that are old, from the future or malformed are not used", async (t) => {
  await using fake = await startFakeTinker();
  const key = bootstrapCacheKey(fake.url, fake.apiKey);
  const config = { pjwt_auth_enabled: false, credential_default_source: "api_key" };
  const entry = (storedAt: number, flags: object = config) =>
    bootstrapCacheEntry(key, fake.apiKey, flags as BootstrapCacheEntry["config"], storedAt);
  await t.step("a good entry is used (the control for the steps below)", async () => {
    await fake.clearLog();
    await client(fake, new Map([[key, entry(Date.now())]])).getTrainingRun(FAKE_IDS.run);
    assert.deepEqual(await trace(fake), [`GET ${RUN_PATH} 200`]);
  });
  const bad: [string, unknown][] = [
    ["expired", entry(Date.now() - BOOTSTRAP_CACHE_TTL_MS - 1)],
    ["from the future", entry(Date.now() + 3_600_000)],
    ["another version", { ...entry(Date.now()), version: 2 }],
    ["a nested value", entry(Date.now(), { ...config, x: { y: 1 } })],
    ["a changed flag (the MAC no longer holds)", {
      ...entry(Date.now()),
      config: { ...config, pjwt_auth_enabled: true },
    }],
    ["written without the API key (a MAC under another key)", {
      ...bootstrapCacheEntry(key, "tml-someone-else", config, Date.now()),
    }],
    ["no MAC", { version: 1, storedAt: Date.now(), config }],
    ["not an object", "garbage"],
  ];
  for (const [name, entry] of bad) {
    await t.step(`${name}: the client asks the server and stores a fresh entry`, async () => {
      const cache = new Map<string, unknown>([[key, entry]]);
      await fake.clearLog();
      await client(fake, cache).getTrainingRun(FAKE_IDS.run);
      assert.deepEqual(await trace(fake), [`POST ${CONFIG} 200`, `GET ${RUN_PATH} 200`]);
      const stored = cache.get(key) as BootstrapCacheEntry;
      assert.equal(stored.version, 1);
      assert.equal(
        stored.mac,
        bootstrapCacheEntry(key, fake.apiKey, stored.config, stored.storedAt).mac,
      );
      assert.deepEqual(stored.config, {
        pjwt_auth_enabled: false,
        credential_default_source: "api_key",
        use_pyqwest_transport: false,
        sample_use_retrieve_futures: true,
      });
    });
  }
  await t.step("a store that throws is a miss, never a failed call", async () => {
    const broken: BootstrapCache = {
      get: () => {
        throw new Error("disk on fire");
      },
      set: () => {
        throw new Error("disk on fire");
      },
      delete: () => {
        throw new Error("disk on fire");
      },
    };
    await fake.clearLog();
    await client(fake, broken).getTrainingRun(FAKE_IDS.run);
    assert.deepEqual(await trace(fake), [`POST ${CONFIG} 200`, `GET ${RUN_PATH} 200`]);
  });
});

Deno.test("bootstrap cache: a JWT given as the key is not cached", async () => {
  await using fake = await startFakeTinker({ jwtAuth: true });
  const jwt = ((await (await fetch(`${fake.url}${TOKEN}`, {
    method: "POST",
    headers: { "x-api-key": fake.apiKey },
  })).json()) as { jwt: string }).jwt;
  const cache = new Map<string, unknown>();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: jwt, bootstrapCache: cache });
  await rest.getTrainingRun(FAKE_IDS.run);
  assert.equal(cache.size, 0);
});

Deno.test("bootstrap cache: JWT auth switched on since the entry was stored", async (t) => {
  await using fake = await startFakeTinker();

  await t.step(
    "a read answered 401 invalid_token: drop, bootstrap again, replay once with a JWT",
    async () => {
      const cache = await warm(fake);
      await fake.setOptions({ jwtAuth: true });
      await fake.inject({ path: RUN_PATH, status: 401, headers: INVALID_TOKEN });
      const run = await client(fake, cache).getTrainingRun(FAKE_IDS.run);
      assert.equal(run.training_run_id, FAKE_IDS.run);
      assert.deepEqual(await trace(fake), [
        `GET ${RUN_PATH} 401`,
        `POST ${CONFIG} 200`,
        `POST ${TOKEN} 200`,
        `GET ${RUN_PATH} 200 jwt`,
      ]);
      const [entry] = [...cache.values()] as BootstrapCacheEntry[];
      assert.equal(entry!.config.pjwt_auth_enabled, true, "the fresh flags are stored");
      assert.ok(!JSON.stringify(entry).includes("eyJ"), "the JWT is not stored");
    },
  );

  await t.step("a later client uses the fresh entry: the JWT exchange, then its call", async () => {
    const cache = await warm(fake);
    await client(fake, cache).getTrainingRun(FAKE_IDS.run);
    assert.deepEqual(await trace(fake), [`POST ${TOKEN} 200`, `GET ${RUN_PATH} 200 jwt`]);
  });

  await t.step("a write answered 401 (any 401): replayed once, same idempotency key", async () => {
    await fake.setOptions({ jwtAuth: false });
    const cache = await warm(fake);
    await fake.setOptions({ jwtAuth: true });
    const publish = `/api/v1/training_runs/${FAKE_IDS.run}/checkpoints/${
      FAKE_IDS.checkpointPath.split("/").slice(-2).join("/")
    }/publish`;
    await fake.inject({ path: publish, status: 401 });
    await client(fake, cache).publishCheckpointFromTinkerPath(FAKE_IDS.checkpointPath);
    assert.deepEqual(await trace(fake), [
      `POST ${publish} 401`,
      `POST ${CONFIG} 200`,
      `POST ${TOKEN} 200`,
      `POST ${publish} 204 jwt`,
    ]);
    const [first, , , replay] = await fake.requests();
    assert.equal(first!.headers["x-idempotency-key"], replay!.headers["x-idempotency-key"]);
  });

  await t.step(
    "concurrent calls answered 401 share one new bootstrap, each replayed once",
    async () => {
      await fake.setOptions({ jwtAuth: false });
      const cache = await warm(fake);
      await fake.setOptions({ jwtAuth: true });
      await fake.inject({ path: RUN_PATH, status: 401, headers: INVALID_TOKEN, times: 3 });
      const rest = client(fake, cache);
      await Promise.all([1, 2, 3].map(() => rest.getTrainingRun(FAKE_IDS.run)));
      const lines = await trace(fake);
      assert.equal(lines.filter((l) => l === `GET ${RUN_PATH} 401`).length, 3);
      assert.equal(lines.filter((l) => l.startsWith(`POST ${CONFIG}`)).length, 1);
      assert.equal(lines.filter((l) => l.startsWith(`POST ${TOKEN}`)).length, 1);
      assert.equal(lines.filter((l) => l === `GET ${RUN_PATH} 200 jwt`).length, 3);
    },
  );

  await fake.setOptions({ jwtAuth: false });
});

Deno.test("bootstrap cache: a 401 that fresh flags do not explain stands, after one bootstrap", async (t) => {
  await using fake = await startFakeTinker();
  await t.step(
    "cached flags: dropped and fetched again; the same key would get the same answer",
    async () => {
      const cache = await warm(fake);
      await fake.inject({ path: RUN_PATH, status: 401, headers: INVALID_TOKEN });
      await assert.rejects(client(fake, cache).getTrainingRun(FAKE_IDS.run), AuthenticationError);
      assert.deepEqual(await trace(fake), [`GET ${RUN_PATH} 401`, `POST ${CONFIG} 200`]);
      assert.equal(cache.size, 1, "the fresh flags are stored again");
    },
  );
  await t.step("the replay is sent once: a second 401 is the answer", async () => {
    await fake.setOptions({ jwtAuth: false });
    const cache = await warm(fake);
    await fake.setOptions({ jwtAuth: true });
    await fake.inject({ path: RUN_PATH, status: 401, headers: INVALID_TOKEN, times: 2 });
    await assert.rejects(client(fake, cache).getTrainingRun(FAKE_IDS.run), AuthenticationError);
    assert.deepEqual(await trace(fake), [
      `GET ${RUN_PATH} 401`,
      `POST ${CONFIG} 200`,
      `POST ${TOKEN} 200`,
      `GET ${RUN_PATH} 401 jwt`,
    ]);
  });
  await fake.setOptions({ jwtAuth: false });
  await t.step("fresh flags (no cache): a plain 401 is not replayed", async () => {
    await fake.clearLog();
    await fake.inject({ path: RUN_PATH, status: 401 });
    const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, maxRetries: 0 });
    await assert.rejects(rest.getTrainingRun(FAKE_IDS.run), AuthenticationError);
    assert.deepEqual(await trace(fake), [`POST ${CONFIG} 200`, `GET ${RUN_PATH} 401`]);
  });
});

Deno.test("bootstrap cache: JWT auth switched off since the entry was stored", async (t) => {
  await using fake = await startFakeTinker({ jwtAuth: true });
  await t.step(
    "the JWT exchange's 404 drops the entry; the bootstrap goes on without it",
    async () => {
      const cache = await warm(fake);
      await fake.setOptions({ jwtAuth: false });
      await client(fake, cache).getTrainingRun(FAKE_IDS.run);
      assert.deepEqual(await trace(fake), [
        `POST ${TOKEN} 404`,
        `POST ${CONFIG} 200`,
        `GET ${RUN_PATH} 200`,
      ]);
      const [entry] = [...cache.values()] as BootstrapCacheEntry[];
      assert.equal(entry!.config.pjwt_auth_enabled, false);
    },
  );
  await t.step(
    "whoami() with cached flags saying JWT is off asks the server before failing",
    async () => {
      await fake.setOptions({ jwtAuth: false });
      const cache = await warm(fake);
      await fake.setOptions({ jwtAuth: true });
      const me = await client(fake, cache).whoami();
      assert.equal(me.email, "ada@example.com");
      assert.deepEqual(await trace(fake), [`POST ${CONFIG} 200`, `POST ${TOKEN} 200`]);
    },
  );
});

Deno.test("bootstrap cache: blocking `.result()` takes the same path (fake in its own process)", async () => {
  await using fake = await spawnFakeTinker();
  const cache = await warm(fake);
  await fake.setOptions({ jwtAuth: true });
  await fake.inject({ path: RUN_PATH, status: 401, headers: INVALID_TOKEN });
  const rest = client(fake, cache);
  try {
    assert.equal(rest.getTrainingRun(FAKE_IDS.run).result().training_run_id, FAKE_IDS.run);
  } finally {
    rest.close();
  }
  assert.deepEqual(await trace(fake), [
    `GET ${RUN_PATH} 401`,
    `POST ${CONFIG} 200`,
    `POST ${TOKEN} 200`,
    `GET ${RUN_PATH} 200 jwt`,
  ]);
});

Deno.test("bootstrap cache: TINKER_CREDENTIAL_CMD's output is never a cache key; the stored key is", async (t) => {
  await using fake = await startFakeTinker();
  const home = await Deno.makeTempDir({ prefix: "tinker-cache-home-" });
  try {
    await t.step("a command: every client asks the server, nothing is stored", async () => {
      await using jwtFake = await startFakeTinker({ jwtAuth: true });
      const cache = new Map<string, unknown>();
      const env = { TINKER_CREDENTIAL_CMD: `printf '%s\\n' '${jwtFake.apiKey}'` };
      for (let i = 0; i < 2; i++) {
        await jwtFake.clearLog();
        const rest = new RestClient({ baseUrl: jwtFake.url, env, bootstrapCache: cache });
        await rest.getTrainingRun(FAKE_IDS.run);
        assert.deepEqual(await trace(jwtFake), [
          `POST ${CONFIG} 200`,
          `POST ${TOKEN} 200`,
          `GET ${RUN_PATH} 200 jwt`,
        ]);
      }
      assert.equal(cache.size, 0);
    });
    await t.step("the stored default key: cached under that key's fingerprint", async () => {
      await Deno.mkdir(`${home}/.tinker`);
      await Deno.writeTextFile(
        `${home}/.tinker/credentials.json`,
        JSON.stringify({
          version: 1,
          default: "main",
          keys: { main: { type: "manual", key: fake.apiKey, name: "main" } },
        }),
      );
      const cache = new Map<string, unknown>();
      const rest = () =>
        new RestClient({ baseUrl: fake.url, env: { HOME: home }, bootstrapCache: cache });
      await rest().getTrainingRun(FAKE_IDS.run);
      assert.deepEqual([...cache.keys()], [bootstrapCacheKey(fake.url, fake.apiKey)]);
      await fake.clearLog();
      await rest().getTrainingRun(FAKE_IDS.run);
      assert.deepEqual(await trace(fake), [`GET ${RUN_PATH} 200`]);
    });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
