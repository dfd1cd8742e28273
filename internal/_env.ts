// Reads an environment variable where the runtime allows it. In Deno, the
// permission is queried first, so a missing --allow-env neither throws nor
// prompts; elsewhere `process.env` is used when there is one.

interface DenoLike {
  env: { get(name: string): string | undefined };
  permissions?: {
    querySync?(desc: { name: "env"; variable: string }): { state: string };
  };
}

/** The trimmed value of `name`, or `undefined` when unset, empty or not readable. */
export function readEnv(name: string): string | undefined {
  const value = rawEnv(name)?.trim();
  return value === "" ? undefined : value;
}

/**
 * True in Deno when `name` cannot be read for lack of `--allow-env` (so an
 * unset-looking variable may be set): messages then name the permission.
 */
export function envUnreadable(name: string): boolean {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  try {
    const query = deno?.permissions?.querySync;
    return query !== undefined && query({ name: "env", variable: name }).state !== "granted";
  } catch {
    return false;
  }
}

/** Why the variables `names` could not be read here, or "" when they could. */
export function unreadableNote(names: string[]): string {
  const denied = names.filter(envUnreadable);
  if (denied.length === 0) return "";
  return ` (Deno was not granted --allow-env=${denied.join(",")}, so ${
    denied.length === 1 ? "that variable was" : "those variables were"
  } not read)`;
}

function rawEnv(name: string): string | undefined {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  try {
    if (deno?.env) {
      const query = deno.permissions?.querySync;
      const state = query ? query({ name: "env", variable: name }).state : "granted";
      return state === "granted" ? deno.env.get(name) : undefined;
    }
    const process = (globalThis as { process?: { env?: Record<string, string | undefined> } })
      .process;
    return process?.env?.[name];
  } catch {
    return undefined;
  }
}
