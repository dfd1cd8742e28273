// Error classes narrow what they can (checked by the type checker: this file
// does not compile when `NotFoundError.status` is a plain number), and every
// public method documents what it throws.

import assert from "node:assert/strict";
import {
  ApiConnectionError,
  ApiError,
  ApiTimeoutError,
  ApiUserAbortError,
  AuthenticationError,
  BadRequestError,
  BillingError,
  ConflictError,
  errorForStatus,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RestClient,
  TinkerError,
  UnprocessableEntityError,
} from "./mod.ts";
import * as mod from "./mod.ts";
import { rejection } from "./tests/_assert.ts";
import { startFakeTinker } from "./testing/mod.ts";

Deno.test("status classes carry their status as a literal type and value", () => {
  const s400: 400 = new BadRequestError().status;
  const s401: 401 = new AuthenticationError().status;
  const s402: 402 = new BillingError().status;
  const s403: 403 = new PermissionDeniedError().status;
  const s404: 404 = new NotFoundError({ body: { detail: "gone" } }).status;
  const s409: 409 = new ConflictError().status;
  const s422: 422 = new UnprocessableEntityError().status;
  const s429: 429 = new RateLimitError().status;
  assert.deepEqual([s400, s401, s402, s403, s404, s409, s422, s429], [
    400,
    401,
    402,
    403,
    404,
    409,
    422,
    429,
  ]);
  assert.match(new NotFoundError({ body: { detail: "gone" } }).message, /status 404: gone/);
  const server: number = new InternalServerError().status;
  assert.equal(server, 500);
  assert.equal(new InternalServerError({ status: 503 }).status, 503);
});

Deno.test("errors without a response have no status or headers, by type", () => {
  const none: [undefined, undefined, undefined] = [
    new ApiConnectionError({ message: "refused" }).status,
    new ApiTimeoutError({ message: "slow" }).status,
    new ApiUserAbortError({ message: "stop" }).headers,
  ];
  assert.deepEqual(none, [undefined, undefined, undefined]);
});

Deno.test("instanceof narrows a caught error to its status", async () => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const error = await rejection(rest.getTrainingRun("missing:train:0"));
  if (!(error instanceof NotFoundError)) throw new Error(`expected a NotFoundError, got ${error}`);
  const status: 404 = error.status;
  assert.equal(status, 404);
  assert.ok(errorForStatus({ status: 404 }) instanceof NotFoundError);
  assert.equal(errorForStatus({ status: 404 }).status, 404);
});

Deno.test("every class the package throws is exported from mod.ts and is a TinkerError", () => {
  for (
    const name of [
      "TinkerError",
      "ApiError",
      "InvalidArgumentError",
      "TinkerPathError",
      "SyncUnavailableError",
      "NotFoundError",
      "ApiConnectionError",
      "ApiTimeoutError",
      "ApiUserAbortError",
      "ApiResponseValidationError",
    ]
  ) {
    const Class = (mod as Record<string, unknown>)[name];
    assert.equal(typeof Class, "function", `${name} is exported`);
    assert.ok((Class as { prototype: object }).prototype instanceof Error, name);
    if (name !== "TinkerError") {
      assert.ok((Class as { prototype: object }).prototype instanceof TinkerError, name);
    }
  }
  assert.ok(ApiError.prototype instanceof TinkerError);
});

Deno.test("every public client method documents what it throws", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", new URL("./mod.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  type Tag = { kind: string; tsType?: { repr: string } };
  type Fn = { name: string; kind?: string; jsDoc?: { tags?: Tag[] } };
  type Node = { name: string; kind?: string; declarations?: { kind: string; def: Def }[] };
  type Def = { constructors?: Fn[]; methods?: Fn[] };
  const nodes: Node[] = Object.values(json.nodes as Record<string, { symbols: Node[] }>)
    .flatMap((m) => m.symbols);
  const missing: string[] = [];
  let checked = 0;
  for (
    const name of ["RestClient", "AdminClient", "ServiceClient", "TrainingClient", "SamplingClient"]
  ) {
    const def = nodes.find((n) => n.name === name)?.declarations?.find((d) => d.kind === "class")
      ?.def;
    assert.ok(def, `${name} is documented`);
    const throwing = [
      ...(def.constructors ?? []).map((c) => ({ ...c, name: "constructor" })),
      ...(def.methods ?? []).filter((m) =>
        m.kind !== "getter" && m.name !== "close" && !m.name.startsWith("[")
      ),
    ];
    for (const fn of throwing) {
      checked++;
      const tags = fn.jsDoc?.tags?.filter((t) => t.kind === "throws") ?? [];
      if (tags.length === 0) missing.push(`${name}.${fn.name}`);
      for (const tag of tags) {
        const cls = tag.tsType?.repr ?? "";
        assert.ok(cls in mod, `${name}.${fn.name}: @throws {${cls}} names an exported class`);
      }
    }
  }
  assert.ok(checked > 30, `checked ${checked} methods`);
  assert.deepEqual(missing, [], "methods without @throws");
});
