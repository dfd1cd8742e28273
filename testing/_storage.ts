/**
 * The "signed storage" side: GCS-style V4 signed URLs (a real HMAC with a
 * per-server secret) and the handler of the separate storage origin that
 * serves checkpoint archives, trace files and redirected audit logs.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import { checkpointArchive } from "./_archive.ts";
import { json, type Reply } from "./_http.ts";
import type { FakeState } from "./_state.ts";
import { gzip, tarSize, tarStream } from "./_tar.ts";
import type { FakeBehaviour } from "./_types.ts";

/** Seconds a signed URL stays valid (hosted: 15 minutes). */
export const SIGNED_URL_TTL_SECONDS = 900;

/** The running fake, as its handlers see it. */
export interface Context {
  state: FakeState;
  options: FakeBehaviour;
  /** Key of the HMACs behind signed URLs and JWTs. */
  secret: string;
  storageUrl: string;
  /** Audit JSON bodies parked for redirected `/api/v1/audit` requests, by object name. */
  parked: Map<string, string>;
  /** Resolves after `ms`, or at once when the server closes (held polls; none without it). */
  wait?: (ms: number) => Promise<void>;
}

const goog = (date: Date) => date.toISOString().replace(/[-:]|\.\d{3}/g, "");

/** A signed URL for object `path` (starting with `/signed/`), valid for 15 minutes from `now`. */
export function signUrl(ctx: Context, path: string, now: number = Date.now()): string {
  const date = goog(new Date(now));
  const params = new URLSearchParams({
    "X-Goog-Algorithm": "GOOG4-RSA-SHA256",
    "X-Goog-Credential": `fake-storage@tinker-fake.iam.gserviceaccount.com/${
      date.slice(0, 8)
    }/auto/storage/goog4_request`,
    "X-Goog-Date": date,
    "X-Goog-Expires": String(SIGNED_URL_TTL_SECONDS),
    "X-Goog-SignedHeaders": "host",
  });
  params.set("X-Goog-Signature", signature(ctx.secret, path, date, String(SIGNED_URL_TTL_SECONDS)));
  return `${ctx.storageUrl}${path}?${params}`;
}

function signature(secret: string, path: string, date: string, expires: string): string {
  return createHmac("sha256", secret).update(`${path}\n${date}\n${expires}`).digest("hex");
}

function xmlError(status: number, code: string, message: string): Reply {
  return {
    status,
    headers: { "content-type": "application/xml; charset=UTF-8" },
    body:
      `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  };
}

/** Answers a request to the storage origin. `rawPath` is the request target as received. */
export async function handleStorage(
  ctx: Context,
  method: string,
  rawPath: string,
  headers: Record<string, string>,
  now: number = Date.now(),
): Promise<Reply> {
  if (headers["x-api-key"] !== undefined) {
    return json(403, { detail: "Credentials must not be sent to storage" });
  }
  if (method !== "GET" && method !== "HEAD") {
    return xmlError(405, "MethodNotAllowed", "Only GET is allowed.");
  }
  const [path = "", query = ""] = rawPath.split("?", 2);
  const params = new URLSearchParams(query);
  const date = params.get("X-Goog-Date") ?? "";
  const expires = params.get("X-Goog-Expires") ?? "";
  const given = Buffer.from(params.get("X-Goog-Signature") ?? "", "hex");
  const wanted = Buffer.from(signature(ctx.secret, path, date, expires), "hex");
  if (
    !path.startsWith("/signed/") || given.length !== wanted.length ||
    !timingSafeEqual(given, wanted)
  ) {
    return xmlError(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided.",
    );
  }
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  const signedAt = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
  if (!(now <= signedAt + Number(expires) * 1000)) {
    return xmlError(403, "ExpiredToken", "The provided token has expired.");
  }
  const object = decodeURIComponent(path.slice("/signed/".length));
  const parked = ctx.parked.get(object);
  if (parked !== undefined) return json(200, JSON.parse(parked));
  if (object.startsWith("traces/")) return trace(object);
  if (/^[^/]+\/external_weights\//.test(object)) return externalFile(ctx, object);
  return await archive(ctx, object);
}

/** Object `<run>/external_weights/<name>/<file>`: one file of an external-weights checkpoint. */
function externalFile(ctx: Context, object: string): Reply {
  const m = /^([^/]+)\/(external_weights\/[^/]+)\/([^/]+)$/.exec(object);
  const run = m && ctx.state.runs.get(m[1]!);
  const checkpoint = m && ctx.state.checkpoint(m[1]!, m[2]!);
  const entry = run && checkpoint
    ? checkpointArchive(run, checkpoint, ctx.options.archiveBytes).find((e) =>
      e.name === m[3] && e.name !== "checkpoint_complete"
    )
    : undefined;
  if (!entry) return xmlError(404, "NoSuchKey", "The specified key does not exist.");
  const type = entry.name.endsWith(".json") ? "application/json" : "application/octet-stream";
  return {
    status: 200,
    headers: { "content-type": type },
    body: toAsync(entry.content()),
    length: entry.size,
  };
}

async function* toAsync(
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** Object `<run>/<kind>/<name>.tar`: the checkpoint's archive, if the checkpoint still exists. */
async function archive(ctx: Context, object: string): Promise<Reply> {
  const m = /^(.+)\/((?:weights|sampler_weights)\/[^/]+)\.tar$/.exec(object);
  const run = m && ctx.state.runs.get(m[1]!);
  const checkpoint = m && ctx.state.checkpoint(m[1]!, m[2]!);
  if (!run || !checkpoint) return xmlError(404, "NoSuchKey", "The specified key does not exist.");
  const entries = checkpointArchive(run, checkpoint, ctx.options.archiveBytes);
  if (!ctx.options.archiveGzip) {
    return {
      status: 200,
      headers: { "content-type": "application/x-tar" },
      body: tarStream(entries),
      length: tarSize(entries),
    };
  }
  // GCS serves stored objects with a Content-Length, so the gzipped archive is built in memory first.
  const body = new Uint8Array(await new Response(gzip(tarStream(entries))).arrayBuffer());
  return { status: 200, headers: { "content-type": "application/gzip" }, body };
}

/** Object `traces/<session>.pftrace`: a tiny Perfetto-looking protobuf blob. */
function trace(object: string): Reply {
  const name = new TextEncoder().encode(object);
  const body = new Uint8Array([0x0a, name.byteLength, ...name, 0x12, 0x02, 0x08, 0x01]);
  return { status: 200, headers: { "content-type": "application/octet-stream" }, body };
}
