// `tinker checkpoint download`: a thin caller of `downloadCheckpoint`
// (../download.ts), which holds the download logic; here are the command's
// options, its target directory, its progress bars and its output.

import { CliError, EXIT } from "./_errors.ts";
import { idleTimeoutMs, Progress, pythonJoin, saveError } from "./_fetch.ts";
import { formatSize, type Value } from "./_format.ts";
import type { Handler } from "./_spec.ts";
import { propertyTable } from "./_table.ts";
import { files } from "./_fs.ts";
import { quoted } from "./_inert.ts";

/** The default of `--max-size`: what a checkpoint may hold once extracted. */
export const DEFAULT_MAX_SIZE = 256 * 1024 ** 3;

/** `tinker checkpoint download CHECKPOINT_PATH [-o DIR] [--force]`. */
export const download: Handler = async (ctx, { args, options }) => {
  const path = String(args.CHECKPOINT_PATH);
  const { downloadCheckpoint } = await import("../download.ts");
  const fs = await files();
  const { join, resolve } = fs;
  const output = options.output as string | undefined;
  const parent = resolve(ctx.cwd, output ?? ".");
  const name = path.replace("tinker://", "").replaceAll("/", "_");
  const target = join(parent, name);
  const shown = output ? pythonJoin(output, name) : join(ctx.cwd, name);
  const idleMs = idleTimeoutMs(options["idle-timeout"]);
  const maxBytes = sizeOption(options["max-size"]);
  if (output) {
    await fs.mkdir(parent).catch((e) => {
      throw saveError(e, join(parent, "x"), { failure: "Failed to download checkpoint" });
    });
  }
  if (!options.force && await fs.exists(target)) {
    throw new CliError(
      `Target directory already exists: ${shown}`,
      "Use --force to overwrite or choose a different output directory.",
      EXIT.input,
    );
  }
  const client = await ctx.clientOptions();
  let bar: Progress | undefined;
  let drawn = 0;
  const { bytes } = await downloadCheckpoint(client, path, target, {
    signal: ctx.signal,
    force: options.force === true,
    maxBytes,
    idleTimeoutMs: idleMs,
    now: ctx.now,
    // As the official CLI: status lines unless JSON; warnings always.
    onMessage: (line, level) => {
      if (level === "warning" || !ctx.json) ctx.err(`${line}\n`);
    },
    onProgress: (p) => {
      if (p.event === "start") {
        const label = p.count > 1 ? `${p.file} (${p.index}/${p.count})` : p.file;
        bar = new Progress(ctx, label, p.fileLength);
        drawn = 0;
      } else if (p.event === "bytes") {
        bar?.update(p.fileBytes - drawn);
        drawn = p.fileBytes;
      } else {
        bar?.done();
        bar = undefined;
      }
    },
  });
  const json: Record<string, Value> = { checkpoint_path: path, destination: shown };
  if (bytes > 0) json.file_size_bytes = bytes;
  ctx.emit({
    json,
    table: () =>
      propertyTable(`Checkpoint Download: ${path}`, [
        ["Checkpoint Path", path],
        ...(bytes > 0 ? [["Total Size", formatSize(bytes)]] : []),
        ["Downloaded to", shown],
      ]),
  });
};

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 1024,
  KB: 1024,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1024 ** 4,
  TIB: 1024 ** 4,
};

/** `--max-size`: bytes, or a number with a 1024-based unit (`500M`, `2GiB`, `1T`). */
export function sizeOption(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_SIZE;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(String(value));
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new CliError(
      `Invalid value for '--max-size': ${quoted(String(value))}`,
      "Give bytes, or a number with a unit: 500M, 20G, 1T (1024-based).",
      EXIT.input,
    );
  }
  return bytes;
}
