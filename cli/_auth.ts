// `tinker auth login | logout | status | whoami` (and the top-level
// `whoami`), as the official CLI 0.38 runs them. Login verifies the key with
// `GET /api/v1/auth/apikey/me` before storing it as the default in
// `~/.tinker/credentials.json`; logout removes it (and deletes on the server
// a key the CLI generated). No output ever shows a key.

import { authApiError, authBaseUrl, deleteSelfApiKey, getSelfApiKey } from "./_auth_api.ts";
import type { Context } from "./_context.ts";
import { credentialsFileOf, loadCredentials, saveCredentials } from "./_credentials_file.ts";
import { CliError, EXIT, Interrupted } from "./_errors.ts";
import { nodeProcess } from "./_process.ts";
import { credentialSource } from "./_source.ts";
import type { Handler } from "./_spec.ts";
import { propertyTable } from "./_table.ts";

const CONSOLE = "https://tinker.thinkingmachines.ai";

/** The console page that opens the New API Key dialog with `name` filled in. */
export function newKeyUrl(name: string): string {
  return `${CONSOLE}/keys?${new URLSearchParams({ new_key: "true", key_name: name })}`;
}

/** The console page of one key. */
export function keyUrl(keyId: string): string {
  return `${CONSOLE}/keys/${encodeURIComponent(keyId)}`;
}

/** `tinker auth login [--api-key KEY]`. */
export const login: Handler = async (ctx, { options }) => {
  const path = credentialsFileOf(ctx.env);
  const stored = await loadCredentials(path);
  if (stored.default !== null && stored.keys[stored.default] !== undefined) {
    throw new CliError(
      "Already logged in",
      "Run 'tinker auth logout' before logging in again.",
      EXIT.error,
    );
  }
  let key = typeof options["api-key"] === "string" ? options["api-key"] : undefined;
  if (key === undefined) {
    ctx.out(`Create an API Key: ${link(ctx, newKeyUrl(`tinker-cli-${hostname()}`))}\n\n`);
    key = await promptKey(ctx);
  }
  key = key.trim();
  if (!key) throw new CliError("The API key must not be empty", undefined, EXIT.input);
  const baseUrl = await authBaseUrl(ctx);
  let info;
  try {
    info = await getSelfApiKey(ctx, key);
  } catch (error) {
    rethrowInterrupt(ctx, error);
    if (error instanceof CliError) throw error;
    throw new CliError(
      "Could not validate the API key",
      authApiError(error, baseUrl),
      EXIT.auth,
      { cause: error },
    );
  }
  const id = String(info.key_id);
  stored.keys[id] = {
    type: "manual",
    key,
    name: info.name,
    note: info.note,
    details: info.details,
  };
  stored.default = id;
  await saveCredentials(path, stored);
  ctx.out(
    `Logged in as ${info.details.user_details.email} (${info.details.org_details.name}). Stored API key '${info.name}' as the default credential.\n`,
  );
};

/** `tinker auth logout`. */
export const logout: Handler = async (ctx) => {
  const path = credentialsFileOf(ctx.env);
  const stored = await loadCredentials(path);
  const id = stored.default;
  const record = id === null ? undefined : stored.keys[id];
  if (id === null || record === undefined) {
    throw new CliError(
      "No default credential is stored",
      "There is nothing to log out from. Run 'tinker auth login' to log in.",
      EXIT.auth,
    );
  }
  const organization = record.details?.org_details.name ??
    "unknown (not stored with this credential)";
  const generated = record.type === "generated";
  let deleteError: unknown;
  if (generated) {
    try {
      await deleteSelfApiKey(ctx, record.key);
    } catch (error) {
      rethrowInterrupt(ctx, error);
      deleteError = error;
    }
  }
  // Removing the key also clears the default, which pointed at it.
  delete stored.keys[id];
  stored.default = null;
  await saveCredentials(path, stored);
  const hint = `API key organization: ${organization}\nDelete api key here: ${
    link(ctx, keyUrl(id))
  }`;
  if (deleteError !== undefined) {
    throw new CliError(
      "Could not delete the API key on the server",
      `${
        authApiError(deleteError, await authBaseUrl(ctx))
      }\nRemoved the local credential.\nAPI key name: ${record.name}\nAPI key ID: ${id}\n${hint}`,
      EXIT.error,
      { cause: deleteError },
    );
  }
  if (generated) {
    ctx.out(`Removed credential '${record.name}' and deleted its API key on the server.\n`);
  } else {
    ctx.out(`Removed credential '${record.name}'. The API key is still active.\n${hint}\n`);
  }
};

/** `tinker auth status`: is there a credential, where from, and does the API accept it? */
export const status: Handler = async (ctx) => {
  let source: string;
  try {
    source = credentialSource(ctx);
  } catch (error) {
    ctx.out("Credentials available: no\n");
    throw error;
  }
  ctx.out(`Credentials available: yes\nCredential source: ${source}\n`);
  const rest = await ctx.client();
  try {
    await rest.getServerCapabilities({ signal: ctx.signal });
  } catch (error) {
    ctx.out("Tinker accessible: no\n");
    throw error;
  }
  ctx.out("Tinker accessible: yes\n");
};

/** `tinker whoami` / `tinker auth whoami`: the credential's user, organization and source. */
export const whoami: Handler = async (ctx) => {
  const source = credentialSource(ctx);
  const rest = await ctx.client();
  const me = await rest.whoami({ signal: ctx.signal }) as {
    user_urn: string;
    org_urn?: string | null;
    email?: string | null;
  };
  ctx.emit({
    json: { user_urn: me.user_urn, org_urn: me.org_urn ?? null, email: me.email ?? null },
    table: () =>
      propertyTable(undefined, [
        ["Email", me.email ?? "N/A"],
        ["User", me.user_urn],
        ["Organization", me.org_urn ?? "N/A"],
        ["Credential source", source],
      ]),
  });
};

function rethrowInterrupt(ctx: Context, error: unknown): void {
  if (ctx.signal.aborted || (error as { name?: string })?.name === "ApiUserAbortError") {
    throw new Interrupted();
  }
}

/** `url`, clickable in terminals that know OSC 8 (as the official CLI prints it), else as is. */
function link(ctx: Context, url: string): string {
  return ctx.stdoutIsTTY ? `\x1b]8;;${url}\x1b\\${url}\x1b]8;;\x1b\\` : url;
}

/** The machine's name, for the new key's name (`tinker-cli-<host>`). */
function hostname(): string {
  let name = "";
  try {
    const deno = (globalThis as { Deno?: { hostname?: () => string } }).Deno;
    const os = (globalThis as {
      process?: { getBuiltinModule?: (name: string) => { hostname(): string } | undefined };
    }).process?.getBuiltinModule?.("node:os");
    name = deno?.hostname?.() ?? os?.hostname() ?? "";
  } catch {
    // No permission or no API: "unknown", as the SDK says.
  }
  return name.split(".", 1)[0]!.trim() || "unknown";
}

/**
 * The key, read without echo: on a terminal, each character shows as `*`
 * (the official CLI's masked prompt); otherwise one line of stdin.
 */
async function promptKey(ctx: Context): Promise<string> {
  if (!ctx.stdinIsTTY()) {
    const line = await ctx.readLine();
    if (line === null) {
      throw new CliError(
        "No API key given",
        "Paste it at the prompt, pipe it to stdin, or pass --api-key.",
        EXIT.input,
      );
    }
    return line;
  }
  const stdin = nodeProcess().stdin as unknown as RawStdin;
  const key: string[] = [];
  // Raw (no echo) before the prompt shows: nothing typed after it can echo.
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  ctx.out("Paste your API key: ");
  try {
    return await new Promise<string>((resolve, reject) => {
      const onAbort = () => reject(new Interrupted());
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      const onData = (chunk: string) => {
        if (chunk.startsWith("\x1b")) return; // Arrow keys and the like.
        for (const c of chunk) {
          if (c === "\r" || c === "\n") return done(() => resolve(key.join("")));
          if (c === "\x03") return done(() => reject(new Interrupted()));
          if (c === "\x04") {
            return done(() => reject(new CliError("No API key given", undefined, 6)));
          }
          if (c === "\b" || c === "\x7f") {
            if (key.length > 0) {
              key.pop();
              ctx.out("\b \b");
            }
          } else if (c >= " ") {
            key.push(c);
            ctx.out("*");
          }
        }
      };
      const done = (settle: () => void) => {
        stdin.removeListener("data", onData);
        ctx.signal.removeEventListener("abort", onAbort);
        settle();
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    ctx.out("\n");
  }
}

interface RawStdin {
  setRawMode(raw: boolean): void;
  setEncoding(encoding: string): void;
  resume(): void;
  pause(): void;
  on(event: "data", listener: (chunk: string) => void): void;
  removeListener(event: "data", listener: (chunk: string) => void): void;
}
