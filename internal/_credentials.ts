// The credentials a client finds on the machine, as the official SDK 0.38
// finds them: the default key of `~/.tinker/credentials.json` (written by
// `tinker auth login`) and the output of `TINKER_CREDENTIAL_CMD`. Only used
// when neither the `apiKey` option nor `TINKER_API_KEY` gives a key.
//
// No `node:*` import: Bun and Node (and Deno, for child processes) lend their
// built-in modules through `process.getBuiltinModule`, synchronously and only
// when asked, so the REST-only path loads nothing and `.result()` can read
// the file or run the command while it blocks. Deno reads files through its
// own API, after querying (never prompting for) the permission.

import { TinkerError } from "../errors.ts";
import { jwtClaims } from "./_jwt.ts";

/** Who a key belongs to (the SDK's `ApiKeyDetails`). */
export interface KeyDetails {
  org_details: { name: string };
  user_details: { email: string };
}

/** One stored key: pasted in by the user (`manual`) or minted for the CLI (`generated`). */
export interface KeyRecord {
  type: "manual" | "generated";
  key: string;
  name: string;
  note?: string | null;
  details?: KeyDetails | null;
}

/** The file's shape (the SDK's `StoredCredentialsV1`). */
export interface StoredCredentials {
  version: 1;
  default: string | null;
  keys: Record<string, KeyRecord>;
}

/** The default key of the credentials file and where it was found. */
export interface StoredKey {
  id: string;
  record: KeyRecord;
  path: string;
}

/** What running `TINKER_CREDENTIAL_CMD` gave. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
  /** The exit status, or null when a signal ended it. */
  code: number | null;
}

/**
 * Where the credential of a request comes from: a key (the `apiKey` option
 * or `TINKER_API_KEY`, else the stored default key) or `TINKER_CREDENTIAL_CMD`,
 * run for a fresh credential on every token request.
 */
export type Credential =
  | { kind: "key"; key: string; stored?: StoredKey | undefined }
  | { kind: "command"; command: string };

/**
 * The SDK's `resolve_auth_provider(api_key, enforce_cmd=False)`: the key of
 * the option or `TINKER_API_KEY`; else, or when that key is malformed, the
 * command; else the stored default key (looked for only without a command,
 * so it never shadows one). Undefined when there is none.
 */
export function resolveCredential(
  apiKey: string | undefined,
  command: string | undefined,
  stored: () => StoredKey | undefined,
): Credential | undefined {
  if (apiKey) {
    if (!command || apiKey.startsWith("eyJ") || apiKey.startsWith("tml-")) {
      return { kind: "key", key: apiKey };
    }
    return { kind: "command", command };
  }
  if (command) return { kind: "command", command };
  const found = stored();
  return found && { kind: "key", key: found.record.key, stored: found };
}

/** Thrown when this runtime cannot read the file or run the command. */
export class HostUnavailable extends Error {}

/** How long a credential command may run when the client sets no timeout. */
export const COMMAND_TIMEOUT_MS = 60_000;

/** `<home>/.tinker/credentials.json`, where the SDK keeps it (`~/.tinker/credentials.json`). */
export function credentialsPath(home: string): string {
  return `${home.replace(/[\\/]+$/, "")}/.tinker/credentials.json`;
}

/**
 * The file's contents, checked as the SDK's pydantic models check them;
 * fields we do not know are kept (the official CLI may write more later).
 */
export function parseCredentials(text: string, path: string): StoredCredentials {
  const fail = (what: string): never => {
    throw new TinkerError(
      `The credentials file ${path} is not valid: ${what}; fix it, or delete it and run \`tinker auth login\``,
    );
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return fail("it is not JSON");
  }
  if (!isObject(data)) return fail("it is not a JSON object");
  const version = data.version ?? 1;
  if (version !== 1) return fail(`"version" is ${JSON.stringify(version)}, not 1`);
  const def = data.default ?? null;
  if (def !== null && typeof def !== "string") return fail(`"default" is not a string`);
  const keys = data.keys ?? {};
  if (!isObject(keys)) return fail(`"keys" is not an object`);
  for (const [id, record] of Object.entries(keys)) {
    const where = `key ${JSON.stringify(id)}`;
    if (!isObject(record)) return fail(`${where} is not an object`);
    if (record.type !== "manual" && record.type !== "generated") {
      return fail(`${where} has "type" ${JSON.stringify(record.type)} (manual or generated)`);
    }
    if (typeof record.key !== "string") fail(`${where} has no string "key"`);
    if (typeof record.name !== "string") fail(`${where} has no string "name"`);
    if (record.note !== undefined && record.note !== null && typeof record.note !== "string") {
      fail(`${where} has a "note" that is not a string`);
    }
    const details = record.details;
    if (details === undefined || details === null) {
      if (record.type === "generated") fail(`${where} (generated) has no "details"`);
    } else if (
      !isObject(details) || !isObject(details.org_details) || !isObject(details.user_details) ||
      typeof details.org_details.name !== "string" ||
      typeof details.user_details.email !== "string"
    ) {
      fail(`${where} has "details" without org_details.name and user_details.email`);
    }
  }
  return { ...data, version: 1, default: def, keys } as unknown as StoredCredentials;
}

/**
 * The default key stored in the file at `path`: undefined when there is no
 * file or no default (as the SDK: a default naming a missing key is none).
 * A file that cannot be read or parsed is a TinkerError naming it.
 */
export function readStoredKey(path: string): StoredKey | undefined {
  const text = readText(path);
  if (text === undefined) return undefined;
  const stored = parseCredentials(text, path);
  const id = stored.default;
  const record = id === null ? undefined : stored.keys[id];
  if (id === null || record === undefined) return undefined;
  warnIfExposed(path);
  return { id, record, path };
}

/** The file's text, or undefined when it does not exist. */
export function readText(path: string): string | undefined {
  const deno = denoFs();
  try {
    if (deno) {
      if (!granted(deno, { name: "read", path })) {
        throw new HostUnavailable(`Deno was not given --allow-read for ${path}`);
      }
      return deno.readTextFileSync(path);
    }
    return nodeModule<NodeFs>("node:fs").readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof HostUnavailable) throw error;
    const code = (error as { code?: string }).code;
    const name = (error as { name?: string }).name;
    if (code === "ENOENT" || name === "NotFound") return undefined;
    throw new TinkerError(
      `Cannot read the credentials file ${path}: ${(error as Error).message ?? error}`,
    );
  }
}

const warned = new Set<string>();

/** A warning (once) when the file is not private to its owner, as SSH warns of keys. */
function warnIfExposed(path: string): void {
  if (warned.has(path)) return;
  let mode: number | null | undefined;
  let owner: number | null | undefined;
  let me: number | null | undefined;
  try {
    const deno = denoFs();
    if (deno) {
      ({ mode, uid: owner } = deno.statSync(path));
      me = deno.uid?.();
    } else {
      ({ mode, uid: owner } = nodeModule<NodeFs>("node:fs").statSync(path));
      me = processLike()?.getuid?.();
    }
  } catch {
    return; // Windows, or no permission to stat: nothing to say.
  }
  const problems: string[] = [];
  if (typeof mode === "number" && (mode & 0o077) !== 0) {
    problems.push(`other users may read it (mode ${(mode & 0o777).toString(8)}; run chmod 600)`);
  }
  if (typeof owner === "number" && typeof me === "number" && owner !== me) {
    problems.push(`it belongs to user ${owner}, not to you (${me})`);
  }
  if (problems.length === 0) return;
  warned.add(path);
  console.warn(`Warning: the credentials file ${path} is used, but ${problems.join(", and ")}.`);
}

/** Why the credential command cannot run here, or undefined when it can. */
export function commandUnavailable(): string | undefined {
  const deno = denoFs();
  if (deno && !granted(deno, { name: "run" }) && !granted(deno, { name: "run", command: "sh" })) {
    return "Deno was not given --allow-run";
  }
  if (processLike()?.getBuiltinModule === undefined) {
    return "this runtime cannot run commands";
  }
  return undefined;
}

/** Runs `command` in a shell; kills it after `timeoutMs` (a TinkerError) or when `signal` fires. */
export function runCommand(
  command: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CommandOutput> {
  const why = commandUnavailable();
  if (why) return Promise.reject(unavailableError(why));
  const { spawn } = nodeModule<NodeChildProcess>("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, stdio: ["ignore", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout.on("data", (chunk) => out.push(chunk));
    child.stderr.on("data", (chunk) => err.push(chunk));
    let settled = false;
    const finish = (error: Error | undefined, code: number | null = null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (error) {
        child.kill("SIGKILL");
        // A grandchild may still hold the pipes: stop reading them.
        child.stdout.destroy();
        child.stderr.destroy();
        reject(error);
      } else resolve({ stdout: decode(out), stderr: decode(err), code });
    };
    const onAbort = () => finish(new TinkerError("Running TINKER_CREDENTIAL_CMD was aborted"));
    const timer = setTimeout(() => finish(timeoutError(timeoutMs)), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    child.on("error", (error) => finish(startError(error)));
    child.on("close", (code) => finish(undefined, code));
  });
}

/** `runCommand`, blocking (for `.result()`). */
export function runCommandSync(command: string, timeoutMs: number): CommandOutput {
  const why = commandUnavailable();
  if (why) throw unavailableError(why);
  const { spawnSync } = nodeModule<NodeChildProcess>("node:child_process");
  const result = spawnSync(command, {
    shell: true,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  if ((result.error as { code?: string } | undefined)?.code === "ETIMEDOUT") {
    throw timeoutError(timeoutMs);
  }
  if (result.error) throw startError(result.error);
  return {
    stdout: decode([result.stdout]),
    stderr: decode([result.stderr]),
    code: result.status,
  };
}

/**
 * The credential a command printed, checked as the SDK checks it: its
 * trimmed standard output (the SDK strips both ends only), neither empty nor
 * an expired JWT; and, checked for each run, one that a header can carry
 * (else fetch fails, and is retried, as a network error). `secrets` are
 * scrubbed from the standard error quoted in the message.
 */
export function commandCredential(output: CommandOutput, secrets: string[] = []): string {
  const credential = output.stdout.trim();
  if (!credential) {
    let why = output.code === 0 || output.code === null
      ? ""
      : `; it exited with status ${output.code}`;
    let stderr = output.stderr.trim().split("\n").at(-1)?.slice(0, 300) ?? "";
    for (const secret of secrets) if (secret) stderr = stderr.replaceAll(secret, "[redacted]");
    if (stderr) why += `: ${stderr}`;
    throw new TinkerError(`TINKER_CREDENTIAL_CMD returned an empty credential${why}.`);
  }
  if (!isHeaderToken(credential)) {
    // The SDK strips only the ends too: a second line is part of the credential.
    const lines = credential.split(/\r?\n/).length;
    throw new TinkerError(
      `TINKER_CREDENTIAL_CMD printed a credential that contains whitespace or characters that cannot be sent in an HTTP header${
        lines > 1 ? ` (${lines} lines: it must print the credential alone)` : ""
      }; nothing was sent.`,
    );
  }
  if (credential.startsWith("eyJ")) {
    const exp = jwtClaims(credential)?.exp;
    if (typeof exp !== "number" || exp * 1000 <= Date.now()) {
      throw new TinkerError("TINKER_CREDENTIAL_CMD printed an expired JWT.");
    }
  }
  return credential;
}

/** Printable ASCII without spaces only (what an HTTP header value can carry as is). */
export function isHeaderToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function timeoutError(ms: number): TinkerError {
  return new TinkerError(
    `TINKER_CREDENTIAL_CMD did not finish within ${ms} ms and was stopped; check that it prints a credential without waiting for input`,
  );
}

function startError(error: Error): TinkerError {
  return new TinkerError(`TINKER_CREDENTIAL_CMD could not be started: ${error.message}`);
}

function unavailableError(why: string): TinkerError {
  return new TinkerError(
    `TINKER_CREDENTIAL_CMD is set, but ${why}; grant that, or pass apiKey to the client (or set TINKER_API_KEY)`,
  );
}

function decode(chunks: Uint8Array[]): string {
  const decoder = new TextDecoder();
  return chunks.map((c) => decoder.decode(c, { stream: true })).join("") + decoder.decode();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// ---- the runtime -----------------------------------------------------------

interface DenoFs {
  readTextFileSync(path: string): string;
  statSync(path: string): { mode: number | null; uid: number | null };
  uid?(): number | null;
  permissions?: {
    querySync?(desc: { name: string; path?: string; command?: string }): { state: string };
  };
}

interface NodeFs {
  readFileSync(path: string, encoding: "utf8"): string;
  statSync(path: string): { mode: number; uid: number };
}

interface Stream {
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  destroy(): void;
}

interface NodeChildProcess {
  spawn(command: string, options: object): {
    stdout: Stream;
    stderr: Stream;
    kill(signal: string): void;
    on(event: "error", listener: (error: Error) => void): void;
    on(event: "close", listener: (code: number | null) => void): void;
  };
  spawnSync(command: string, options: object): {
    stdout: Uint8Array;
    stderr: Uint8Array;
    status: number | null;
    error?: Error;
  };
}

interface ProcessLike {
  getBuiltinModule?(name: string): unknown;
  getuid?(): number;
}

function denoFs(): DenoFs | undefined {
  const deno = (globalThis as { Deno?: DenoFs }).Deno;
  return typeof deno?.readTextFileSync === "function" ? deno : undefined;
}

function processLike(): ProcessLike | undefined {
  return (globalThis as { process?: ProcessLike }).process;
}

function granted(deno: DenoFs, desc: { name: string; path?: string; command?: string }): boolean {
  const query = deno.permissions?.querySync;
  if (!query) return true;
  try {
    return query(desc).state === "granted";
  } catch {
    return false;
  }
}

function nodeModule<T>(name: string): T {
  const module = processLike()?.getBuiltinModule?.(name) as T | undefined;
  if (module === undefined) {
    throw new HostUnavailable(
      "this runtime has neither Deno's file API nor process.getBuiltinModule (Node 20.16+, Bun)",
    );
  }
  return module;
}
