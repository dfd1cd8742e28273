// The credentials file, written as the official SDK 0.38 writes it
// (`JsonCredentialStore`): `~/.tinker/credentials.json`, the SDK's fields in
// its order (`model_dump_json(indent=2, exclude_none=True)`), through a temp
// file renamed over the old one (never seen half written or with open
// permissions), mode 0600 in a directory created with mode 0700.

import {
  credentialsPath,
  type KeyRecord,
  parseCredentials,
  type StoredCredentials,
} from "../internal/_credentials.ts";
import { CliError, EXIT } from "./_errors.ts";
import { files } from "./_fs.ts";

/** Where the file is for `env` (`$HOME/.tinker/credentials.json`), or a CliError. */
export function credentialsFileOf(env: Record<string, string | undefined>): string {
  const home = env.HOME?.trim() || env.USERPROFILE?.trim();
  if (!home) {
    throw new CliError(
      "Cannot find the credentials file: HOME is not set",
      "Set HOME to the directory that holds .tinker/credentials.json.",
      EXIT.local,
    );
  }
  return credentialsPath(home);
}

/** The file's contents; an empty store when there is no file. */
export async function loadCredentials(path: string): Promise<StoredCredentials> {
  const fs = await files();
  let text: string;
  try {
    text = await fs.readText(path);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT" || (error as Error).name === "NotFound") {
      return { version: 1, default: null, keys: {} };
    }
    throw new CliError(
      `Cannot read the credentials file ${path}: ${(error as Error).message}`,
      undefined,
      EXIT.local,
    );
  }
  return parseCredentials(text, path);
}

/** The SDK's JSON of `data`: its fields, in its order, without nulls. */
export function serializeCredentials(data: StoredCredentials): string {
  const keys: Record<string, unknown> = {};
  for (const [id, record] of Object.entries(data.keys)) keys[id] = dumpRecord(record);
  const out: Record<string, unknown> = { version: 1 };
  if (data.default !== null) out.default = data.default;
  out.keys = keys;
  return JSON.stringify(out, null, 2);
}

function dumpRecord(record: KeyRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { type: record.type, key: record.key, name: record.name };
  if (record.type === "manual" && record.note !== undefined && record.note !== null) {
    out.note = record.note;
  }
  const details = record.details;
  if (details !== undefined && details !== null) {
    out.details = {
      org_details: { name: details.org_details.name },
      user_details: { email: details.user_details.email },
    };
  }
  return out;
}

/** Writes `data` to `path` atomically, owner-only (temp file, chmod 0600, rename). */
export async function saveCredentials(path: string, data: StoredCredentials): Promise<void> {
  const fs = await files();
  const dir = fs.dirname(path);
  if (!(await fs.exists(dir))) {
    await fs.mkdir(dir);
    // mkdir's mode is masked by the umask: set it exactly (POSIX; Windows has ACLs).
    if (fs.sep === "/") await fs.chmod(dir, 0o700);
  }
  const name = path.slice(dir.length + 1);
  const temp = `${dir}/.${name}.${crypto.randomUUID().slice(0, 8)}`;
  try {
    const file = await fs.open(temp, 0o600);
    try {
      const bytes = new TextEncoder().encode(serializeCredentials(data));
      for (let at = 0; at < bytes.length;) at += await file.write(bytes, at, bytes.length - at);
    } finally {
      await file.close();
    }
    if (fs.sep === "/") await fs.chmod(temp, 0o600);
    await fs.rename(temp, path);
  } catch (error) {
    await fs.remove(temp).catch(() => {});
    throw new CliError(
      `Cannot write the credentials file ${path}: ${(error as Error).message}`,
      "Nothing was changed.",
      EXIT.local,
      { cause: error },
    );
  }
}
