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
