/**
 * What the storage origin serves for an external-weights checkpoint, as
 * SHA-256 digests computed here from the same generators: tests compare a
 * download with them instead of trusting the downloader.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { checkpointArchive } from "./_archive.ts";
import type { FakeCheckpoint } from "./_state.ts";
import type { Context } from "./_storage.ts";

/**
 * `{ file: sha256 hex }` of `tinker://<run>/external_weights/<name>`. The
 * files depend only on the run and the path, so a deleted export (whose run
 * remains) still has them.
 */
export function fileDigests(ctx: Context, tinkerPath: string): Record<string, string> {
  const m = /^tinker:\/\/([^/]+)\/(external_weights\/[^/]+)$/.exec(tinkerPath);
  if (!m) throw new Error(`Not an external-weights tinker path: ${JSON.stringify(tinkerPath)}`);
  const run = ctx.state.runs.get(m[1]!);
  if (!run) throw new Error(`No run ${JSON.stringify(m[1])} in the fake`);
  const checkpoint = ctx.state.checkpoint(m[1]!, m[2]!) ??
    { tinker_path: tinkerPath, time: run.last_request_time } as FakeCheckpoint;
  const digests: Record<string, string> = {};
  for (const entry of checkpointArchive(run, checkpoint, ctx.options.archiveBytes)) {
    if (entry.name === "checkpoint_complete") continue; // Not an external-weights file.
    const hash = createHash("sha256");
    for (const chunk of entry.content() as Iterable<Uint8Array>) hash.update(chunk);
    digests[entry.name] = hash.digest("hex");
  }
  return digests;
}
