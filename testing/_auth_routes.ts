/**
 * The API-key routes `tinker auth login` and `logout` call: `GET` and
 * `DELETE /api/v1/auth/apikey/me`. Both act on the key in `X-API-Key`
 * itself, so a JWT (which passes the general auth check) is refused here.
 *
 * @module
 */
import { detail, json, type Reply } from "./_http.ts";
import type { Context } from "./_storage.ts";
import type { RecordedRequest } from "./_types.ts";

/** The fake key's metadata, as the hosted service describes a key. */
export const FAKE_KEY_INFO = {
  key_id: 4242,
  name: "tinker-cli-fake",
  note: "created in the console",
  details: {
    org_details: { name: "Fake Org" },
    user_details: { email: "ada@example.com" },
  },
};

function isTheKey(ctx: Context, req: RecordedRequest): boolean {
  return req.headers["x-api-key"] === ctx.options.apiKey;
}

/** The routes, as `[path segments, handlers by method]`. */
export const AUTH_ROUTES: [
  string[],
  Record<string, (ctx: Context, req: RecordedRequest) => Reply>,
][] = [
  [["api", "v1", "auth", "apikey", "me"], {
    GET: (ctx, req) =>
      isTheKey(ctx, req) ? json(200, FAKE_KEY_INFO) : detail(401, "Invalid API key"),
    // The fake keeps its one key working (other tests share it): the request is the record.
    DELETE: (ctx, req) => isTheKey(ctx, req) ? { status: 204 } : detail(401, "Invalid API key"),
  }],
];
