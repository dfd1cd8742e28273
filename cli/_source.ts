// Where a command's client takes its credential from, as the library
// resolves it (the command is not run, the key never shown). Small on
// purpose: every command that talks to the API loads it.

import {
  type Credential,
  credentialsPath,
  readStoredKey,
  resolveCredential,
  type StoredKey,
} from "../internal/_credentials.ts";
import type { Context } from "./_context.ts";
import { CliError, EXIT } from "./_errors.ts";

/**
 * Where the client will take its credential from, as the library resolves
 * it (the command is not run): a description without the key, or a CliError.
 */
export function credentialSource(ctx: Context): string {
  let credential: Credential | undefined;
  let home: string | undefined;
  try {
    home = ctx.env.HOME?.trim() || ctx.env.USERPROFILE?.trim();
    credential = resolveCredential(
      ctx.env.TINKER_API_KEY?.trim(),
      ctx.env.TINKER_CREDENTIAL_CMD?.trim(),
      (): StoredKey | undefined => home ? readStoredKey(credentialsPath(home)) : undefined,
    );
  } catch (error) {
    throw new CliError(
      error instanceof Error ? error.message : String(error),
      undefined,
      EXIT.auth,
      { cause: error },
    );
  }
  if (credential === undefined) {
    throw new CliError(
      "No Tinker credentials are available",
      "Run 'tinker auth login', or set TINKER_API_KEY or TINKER_CREDENTIAL_CMD.",
      EXIT.auth,
    );
  }
  if (credential.kind === "command") return "TINKER_CREDENTIAL_CMD (run for each token)";
  const stored = credential.stored;
  if (stored === undefined) return "TINKER_API_KEY";
  return `${stored.path} (key '${stored.record.name}', id ${stored.id})`;
}
