/**
 * The two `node:http` servers of an in-process fake: the API origin (with the
 * `/_fake/` admin endpoints) and the signed-storage origin, plus request
 * recording and fault injection.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import { registerInProcessServer } from "../internal/_blocking.ts";
import { detail, empty, json, type Reply, writeReply } from "./_http.ts";
import { handleOai } from "./_oai.ts";
import { handleApi } from "./_routes.ts";
import { createState } from "./_state.ts";
import { type Context, handleStorage } from "./_storage.ts";
import { fileDigests } from "./_digests.ts";
import type {
  FakeBehaviour,
  FakeTinker,
  FakeTinkerOptions,
  Fault,
  RecordedRequest,
} from "./_types.ts";

/**
 * Default behaviour flags.
 *
 * @example
 * ```ts
 * import { DEFAULT_BEHAVIOUR } from "./mod.ts";
 *
 * console.log(DEFAULT_BEHAVIOUR.apiKey, DEFAULT_BEHAVIOUR.archiveBytes); // tml-fake-key-0123456789abcdef 65536
 * ```
 */
export const DEFAULT_BEHAVIOUR: Readonly<FakeBehaviour> = Object.freeze({
  apiKey: "tml-fake-key-0123456789abcdef",
  jwtAuth: false,
  jwtTtlSeconds: 3600,
  archiveMode: "redirect",
  archiveNotReadyCount: 2,
  archiveGzip: false,
  archiveBytes: 65536,
  tracePendingCount: 2,
  auditRedirect: false,
  latencyMs: 0,
  clientConfig: {},
  protobufForwardBackward: true,
  futureDelayMs: 0,
  futureTryAgainCount: 0,
  futureQueueState: "active",
  futureFailure: null,
  sessionExpiryMs: 120_000,
  tokenDelayMs: 0,
  sessionRoutes: true,
});

/**
 * A `Fault` as JSON: `pathRegex` stands for a RegExp `path`.
 *
 * @example
 * ```ts
 * import type { FaultJson } from "./mod.ts";
 *
 * const fault: FaultJson = { pathRegex: "^/api/v1/sessions", status: 503 };
 * console.log(JSON.stringify(fault)); // the body of POST /_fake/faults
 * ```
 */
export type FaultJson = Omit<Fault, "path"> & { path?: string; pathRegex?: string };

type Target = "api" | "storage";
const encoder = new TextEncoder();
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Starts an in-memory Tinker service on loopback: the API on one port and the
 * signed-storage origin on another. Close it with `close()` or `await using`.
 *
 * @example Call the API with the seeded data
 * ```ts
 * import { FAKE_IDS, startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker({ archiveMode: "json" });
 * const res = await fetch(`${fake.url}/api/v1/training_runs?limit=5`, {
 *   headers: { "X-API-Key": fake.apiKey },
 * });
 * const page = await res.json();
 * console.log(page.cursor.total_count, fake.log.at(-1)?.rawPath, FAKE_IDS.run);
 * ```
 */
export async function startFakeTinker(options: FakeTinkerOptions = {}): Promise<FakeTinker> {
  const { port = 0, hostname = "127.0.0.1", seed, ...behaviour } = options;
  if (!LOOPBACK.test(hostname)) {
    throw new Error(`The fake Tinker server binds loopback only, not ${hostname}`);
  }
  const ctx: Context = {
    state: createState(seed),
    options: { ...DEFAULT_BEHAVIOUR, ...behaviour },
    secret: randomBytes(32).toString("hex"),
    storageUrl: "",
    parked: new Map(),
    wait: (ms) => wait(ms),
  };
  const log: RecordedRequest[] = [];
  const storageLog: RecordedRequest[] = [];
  const faults: { fault: Fault; left: number }[] = [];
  const sockets = new Set<Socket>();
  const waits = new Set<() => void>();
  let listening = true;

  const inject = (fault: Fault) => {
    faults.push({ fault, left: fault.times ?? 1 });
  };
  const clearLog = () => {
    log.length = 0;
    storageLog.length = 0;
  };
  const reset = () => {
    ctx.state = createState(seed);
    ctx.parked.clear();
    faults.length = 0;
    clearLog();
  };
  const setOptions = (patch: Partial<FakeBehaviour>) => {
    const unknown = Object.keys(patch).filter((k) => !(k in DEFAULT_BEHAVIOUR));
    if (unknown.length > 0) throw new Error(`Unknown fake option(s): ${unknown.join(", ")}`);
    Object.assign(ctx.options, patch);
  };

  /** Resolves after `ms`, or at once when the server closes (a held poll). */
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      const done = () => {
        clearTimeout(timer);
        waits.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waits.add(done);
    });

  /** Resolves after `ms`, or at once when the client goes away or the server closes. */
  const sleep = (ms: number, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waits.delete(done);
        res.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waits.add(done);
      res.once("close", done);
    });

  const takeFault = (target: Target, req: RecordedRequest): Fault | undefined => {
    const at = faults.findIndex(({ fault }) =>
      (fault.target ?? "api") === target &&
      (fault.method === undefined || fault.method.toUpperCase() === req.method) &&
      (fault.path === undefined ||
        (typeof fault.path === "string" ? fault.path === req.path : fault.path.test(req.path)))
    );
    const entry = faults[at];
    if (!entry) return undefined;
    if (--entry.left <= 0) faults.splice(at, 1);
    return entry.fault;
  };

  const admin = (req: RecordedRequest): Reply => {
    const route = `${req.method} ${req.path}`;
    try {
      switch (route) {
        case "GET /_fake/log":
          return json(200, log.map(recordToJson));
        case "GET /_fake/storage_log":
          return json(200, storageLog.map(recordToJson));
        case "DELETE /_fake/log":
          clearLog();
          return empty();
        case "POST /_fake/faults": {
          const { pathRegex, ...fault } = req.json as FaultJson;
          inject(pathRegex === undefined ? fault : { ...fault, path: new RegExp(pathRegex) });
          return empty();
        }
        case "POST /_fake/options":
          setOptions(req.json as Partial<FakeBehaviour>);
          return empty();
        case "POST /_fake/reset":
          reset();
          return empty();
        case "GET /_fake/file_digests":
          return json(200, fileDigests(ctx, req.query.find(([k]) => k === "path")?.[1] ?? ""));
      }
    } catch (e) {
      return detail(400, String(e));
    }
    return detail(404, "Not Found");
  };

  const serve = async (target: Target, req: IncomingMessage, res: ServerResponse) => {
    const time = Date.now();
    const record = await readRequest(req, time);
    if (target === "api" && record.path.startsWith("/_fake/")) {
      return void await writeReply(res, admin(record));
    }
    (target === "api" ? log : storageLog).push(record);
    const fault = takeFault(target, record);
    const delay = (target === "api" ? ctx.options.latencyMs : 0) + (fault?.delayMs ?? 0);
    if (delay > 0) await sleep(delay, res);
    if (res.destroyed || !listening) return;
    if (fault?.drop === "before-headers") return void req.socket.destroy();
    let reply: Reply;
    try {
      reply = fault?.status !== undefined
        ? faultReply(fault)
        : target === "api"
        ? record.path.startsWith("/oai/")
          ? handleOai(ctx, record, (ms) => sleep(ms, res))
          : await handleApi(ctx, record)
        : await handleStorage(ctx, record.method, record.rawPath, record.headers);
    } catch (e) {
      console.error("fake Tinker server: handler failed:", e);
      reply = detail(500, "Internal Server Error");
    }
    if (fault?.headers && fault.status === undefined) {
      reply.headers = { ...reply.headers, ...fault.headers };
    }
    record.status = reply.status;
    const cutAt = fault?.truncate ??
      (fault?.drop === "mid-body" ? Math.floor(bodyLength(reply) / 2) : undefined);
    const stallMs = fault?.stallMs ?? 0;
    await writeReply(res, reply, cutAt, stallMs > 0 ? () => sleep(stallMs, res) : undefined);
  };

  const track = (server: Server) => {
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    return server;
  };
  const api = track(
    createServer((req, res) => void serve("api", req, res).catch(() => res.destroy())),
  );
  const storage = track(
    createServer((req, res) => void serve("storage", req, res).catch(() => res.destroy())),
  );
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const listen = (server: Server, p: number) =>
    new Promise<string>((resolve, reject) => {
      server.once("error", reject);
      server.listen(p, hostname, () =>
        resolve(`http://${host}:${(server.address() as { port: number }).port}`));
    });
  ctx.storageUrl = await listen(storage, 0);
  const url = await listen(api, port).catch((e) => {
    storage.close();
    throw e;
  });
  // `.result()` refuses to block on these origins: this thread serves them.
  const unregister = [registerInProcessServer(url), registerInProcessServer(ctx.storageUrl)];

  const close = async () => {
    if (!listening) return;
    listening = false;
    for (const done of unregister) done();
    const closed = [api, storage].map((s) => new Promise((resolve) => s.close(resolve)));
    for (const wake of waits) wake();
    for (const socket of sockets) socket.destroy();
    await Promise.all(closed);
  };

  return {
    url,
    get apiKey() {
      return ctx.options.apiKey;
    },
    storageUrl: ctx.storageUrl,
    log,
    storageLog,
    get state() {
      return ctx.state;
    },
    requests: () => Promise.resolve([...log]),
    clearLog: () => Promise.resolve(clearLog()),
    inject: (fault) => Promise.resolve(inject(fault)),
    setOptions: (patch) => Promise.resolve().then(() => setOptions(patch)),
    reset: () => Promise.resolve(reset()),
    fileDigests: (path) => Promise.resolve().then(() => fileDigests(ctx, path)),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function faultReply(fault: Fault): Reply {
  const body = fault.body ?? { detail: "Injected fault" };
  if (typeof body === "string") return { status: fault.status!, headers: fault.headers, body };
  return json(fault.status!, body, fault.headers);
}

function bodyLength(reply: Reply): number {
  if (typeof reply.body === "string") return encoder.encode(reply.body).byteLength;
  if (reply.body instanceof Uint8Array) return reply.body.byteLength;
  return reply.length ?? 0;
}

async function readRequest(req: IncomingMessage, time: number): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const body = raw.toString("utf8");
  const rawPath = req.url ?? "/";
  const q = rawPath.indexOf("?");
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let parsed: unknown;
  try {
    parsed = body === "" ? undefined : JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  return {
    method: req.method ?? "GET",
    rawPath,
    path: q < 0 ? rawPath : rawPath.slice(0, q),
    query: q < 0 ? [] : [...new URLSearchParams(rawPath.slice(q + 1))],
    headers,
    body,
    bytes,
    json: parsed,
    status: 0,
    time,
  };
}

/** A record as JSON for `/_fake/log`: `bytes` travels as base64 (`recordFromJson` undoes it). */
function recordToJson(r: RecordedRequest): unknown {
  return { ...r, bytes: Buffer.from(r.bytes).toString("base64") };
}
