// `tinker checkpoint list|info|publish|unpublish|set-ttl|delete`.

import type { Checkpoint, RestClient, TrainingRun } from "../mod.ts";
import type { Context } from "./_context.ts";
import { CliError, EXIT, pyErrorText } from "./_errors.ts";
import {
  dumpCheckpoint,
  formatBool,
  formatSize,
  formatTimestamp,
  isoInstant,
  parseIsoMicros,
  pyJson,
  type Value,
} from "./_format.ts";
import { inert } from "./_inert.ts";
import { countTitle, fetchPaged, walkPages } from "./_run.ts";
import type { Handler } from "./_spec.ts";
import { propertyTable, type TableSpec } from "./_table.ts";

const BATCH = 1000;
const PATH_FORMAT = "Checkpoint path must be in the format: tinker://run-id/weights/0001";

/** `tinker checkpoint list [--run-id ID] [--limit N] [--all]`. */
export const list: Handler = async (ctx, { options }) => {
  const rest = await ctx.client();
  const runId = options["run-id"] as string | undefined;
  let checkpoints: Checkpoint[];
  let total: number | undefined;
  if (runId) {
    ({ checkpoints } = await rest.listCheckpoints(runId, { signal: ctx.signal }));
  } else {
    const limit = Math.max(0, Number(options.limit ?? 20));
    ({ items: checkpoints, total } = options.all
      ? await walkPages(
        ctx,
        rest.listUserCheckpoints({ limit: BATCH, signal: ctx.signal }).pages(),
        (p) => ({ items: p.checkpoints, total: p.cursor?.total_count }),
      )
      : await fetchPaged(
        ctx,
        limit,
        BATCH,
        "checkpoints",
        (pageLimit, offset) =>
          rest.listUserCheckpoints({ limit: pageLimit, offset, signal: ctx.signal }).then((p) => ({
            items: p.checkpoints,
            total: p.cursor ? p.cursor.total_count : p.checkpoints.length,
          })),
      ));
  }
  const dumps = () => checkpoints.map((c) => dumpCheckpoint(c as never));
  const now = ctx.now();
  const forRun = runId ? ` for run ${runId}` : "";
  ctx.emit({
    json: (): Value => runId ? { run_id: runId, checkpoints: dumps() } : { checkpoints: dumps() },
    items: dumps,
    table: () => ({
      title: countTitle(
        checkpoints.length,
        total,
        "checkpoint",
        `No checkpoints found${forRun}`,
        forRun,
      ),
      columns: ["Checkpoint ID", "Type", "Size", "Public", "Created", "Expires", "Path"],
      rows: checkpointRows(checkpoints, now),
    }),
  });
};

/** The `list` table's rows (a loop: it runs once per checkpoint, cold). */
function checkpointRows(checkpoints: Checkpoint[], now: number): string[][] {
  const rows: string[][] = [];
  for (let i = 0; i < checkpoints.length; i++) {
    const c = checkpoints[i]!;
    rows.push([
      c.checkpoint_id,
      c.checkpoint_type,
      c.size_bytes == null ? "N/A" : formatSize(c.size_bytes),
      formatBool(c.public),
      formatTimestamp(c.time, now),
      c.expires_at ? formatTimestamp(c.expires_at, now) : "Never",
      c.tinker_path,
    ]);
  }
  return rows;
}

/** `tinker checkpoint info CHECKPOINT_PATH`. */
export const info: Handler = async (ctx, { args }) => {
  const path = requireTinkerPath(String(args.CHECKPOINT_PATH));
  const { parseTinkerPath } = await import("../tinker_path.ts");
  let runId: string;
  try {
    runId = parseTinkerPath(path).training_run_id;
  } catch (error) {
    throw new CliError(
      `Invalid checkpoint path: ${(error as Error).message}`,
      "Checkpoint paths should be in the format: tinker://run-id/weights/0001",
      EXIT.input,
    );
  }
  const rest = await ctx.client();
  let checkpoint: Checkpoint | undefined;
  try {
    const { checkpoints } = await rest.listCheckpoints(runId, { signal: ctx.signal });
    checkpoint = checkpoints.find((c) => c.tinker_path === path);
  } catch (error) {
    const code = (error as { status?: number }).status === 404 ? EXIT.notFound : undefined;
    if (code === undefined) throw error;
    throw new CliError(`Failed to retrieve checkpoint: ${pyErrorText(error)}`, undefined, code, {
      cause: error,
    });
  }
  if (!checkpoint) throw new CliError(`Checkpoint not found: ${path}`, undefined, EXIT.notFound);
  const run = await rest.getTrainingRun(runId, { signal: ctx.signal });
  const found = checkpoint;
  const json = dumpCheckpoint(found as never) as Record<string, Value>;
  json.is_lora = run.is_lora;
  json.lora_rank = run.lora_rank ?? null;
  ctx.emit({ json, table: () => infoTable(found, run, ctx.now()) });
};

function infoTable(c: Checkpoint, run: TrainingRun, now: number): TableSpec {
  const rows = [
    ["Checkpoint ID", c.checkpoint_id],
    ["Type", c.checkpoint_type],
    ["Tinker Path", c.tinker_path],
  ];
  if (c.size_bytes != null) rows.push(["Size", formatSize(c.size_bytes)]);
  rows.push(["Public", formatBool(c.public)]);
  rows.push(["Created", formatTimestamp(c.time, now)]);
  rows.push(["Expires", c.expires_at ? formatTimestamp(c.expires_at, now) : "Never"]);
  if (c.tinker_path.startsWith("tinker://")) {
    rows.push(["Training Run ID", c.tinker_path.slice(9).split("/")[0]!]);
  }
  rows.push(["LoRA", run.is_lora ? (run.lora_rank ? `Yes (Rank ${run.lora_rank})` : "Yes") : "No"]);
  return propertyTable(`Checkpoint: ${c.checkpoint_id}`, rows);
}

/** `tinker checkpoint publish CHECKPOINT_PATH` (no output). */
export const publish: Handler = async (ctx, { args }) => {
  const path = requireTinkerPath(String(args.CHECKPOINT_PATH));
  const rest = await ctx.client();
  await rest.publishCheckpointFromTinkerPath(path, { signal: ctx.signal });
};

/** `tinker checkpoint unpublish CHECKPOINT_PATH` (no output). */
export const unpublish: Handler = async (ctx, { args }) => {
  const path = requireTinkerPath(String(args.CHECKPOINT_PATH));
  const rest = await ctx.client();
  await rest.unpublishCheckpointFromTinkerPath(path, { signal: ctx.signal });
};

/** `tinker checkpoint set-ttl CHECKPOINT_PATH (--ttl SECONDS | --remove)` (no output). */
export const setTtl: Handler = async (ctx, { args, options }) => {
  const path = requireTinkerPath(String(args.CHECKPOINT_PATH));
  const ttl = options.ttl as number | undefined;
  const hint = "Use --ttl to set an expiration or --remove to clear it";
  if (ttl === undefined && !options.remove) {
    throw new CliError("Must specify either --ttl <seconds> or --remove", hint, EXIT.input);
  }
  if (ttl !== undefined && options.remove) {
    throw new CliError("Cannot specify both --ttl and --remove", hint, EXIT.input);
  }
  const rest = await ctx.client();
  await rest.setCheckpointTtlFromTinkerPath(path, options.remove ? null : ttl!, {
    signal: ctx.signal,
  });
};

const TYPES: Record<string, string> = {
  weights: "training",
  sampler_weights: "sampler",
  external_weights: "external",
  training: "training",
  sampler: "sampler",
  external: "external",
};

/** `tinker checkpoint delete [PATHS]... [--run-id ID] [--type T] [--before D] [--after D] [-y]`. */
export const remove: Handler = async (ctx, { args, options }) => {
  const paths = (args.CHECKPOINT_PATHS as string[] | undefined) ?? [];
  const runId = options["run-id"] as string | undefined;
  const type = options.type as string | undefined;
  const before = options.before as string | undefined;
  const after = options.after as string | undefined;
  if (paths.length === 0 && !runId) {
    throw new CliError(
      "Must specify checkpoint paths or --run-id",
      "Examples:\n  tinker checkpoint delete tinker://run-id/weights/0001\n  tinker checkpoint delete --run-id <run-id>\n  tinker checkpoint delete --run-id <run-id> --type weights --before 2024-06-01",
      EXIT.input,
    );
  }
  if (paths.length > 0 && runId) {
    throw new CliError(
      "Cannot specify both checkpoint paths and --run-id",
      "Use either explicit paths or --run-id with optional filters",
      EXIT.input,
    );
  }
  if ((type || before || after) && !runId) {
    throw new CliError(
      "--type, --before, and --after require --run-id",
      "Example: tinker checkpoint delete --run-id <run-id> --type weights --before 2024-06-01",
      EXIT.input,
    );
  }
  const rest = await ctx.client();
  let toDelete: string[];
  if (runId) {
    const beforeAt = before ? parseDate(before) : undefined;
    const afterAt = after ? parseDate(after) : undefined;
    const { checkpoints } = await rest.listCheckpoints(runId, { signal: ctx.signal });
    let filtered = checkpoints;
    if (type) {
      const mapped = TYPES[type];
      if (!mapped) {
        throw new CliError(
          `Invalid checkpoint type: ${type}`,
          "Valid types: weights, sampler_weights, external_weights",
          EXIT.input,
        );
      }
      filtered = filtered.filter((c) => c.checkpoint_type === mapped);
    }
    const at = (c: Checkpoint) => isoInstant(c.time)?.micros ?? NaN;
    if (beforeAt !== undefined) filtered = filtered.filter((c) => at(c) < beforeAt);
    if (afterAt !== undefined) filtered = filtered.filter((c) => at(c) > afterAt);
    if (filtered.length === 0) {
      ctx.out(`No checkpoints found for run ${runId} matching filters\n`);
      return;
    }
    toDelete = filtered.map((c) => c.tinker_path);
    if (!options.yes && !(await confirm(ctx, toDelete, filtered))) {
      ctx.out("Deletion cancelled.\n");
      return;
    }
  } else {
    for (const path of paths) requireTinkerPath(path);
    toDelete = paths;
    if (!options.yes && !(await confirm(ctx, toDelete))) {
      ctx.out("Deletion cancelled.\n");
      return;
    }
  }
  await deletePaths(ctx, rest, toDelete);
};

/** `--before` / `--after`: ISO 8601 (date-only = midnight UTC, naive = UTC) → epoch microseconds. */
export function parseDate(value: string): number {
  const text = value.trim();
  const parsed = parseIsoMicros(text);
  if (!parsed) {
    throw new CliError(
      `Invalid date: ${text.endsWith("Z") ? `${text.slice(0, -1)}+00:00` : text}`,
      "Use ISO 8601 format: 2024-01-01, 2024-01-01T12:00:00Z",
      EXIT.input,
    );
  }
  return parsed.micros;
}

/** The official summary and `[y/N]` prompt; true when the answer is yes. */
async function confirm(
  ctx: Context,
  paths: string[],
  checkpoints?: Checkpoint[],
): Promise<boolean> {
  const count = paths.length;
  const lines = [`Will delete ${count} checkpoint(s):`];
  if (checkpoints) {
    const now = ctx.now();
    let total = 0;
    for (const c of checkpoints) {
      total += c.size_bytes ?? 0;
      const size = c.size_bytes == null ? "N/A" : formatSize(c.size_bytes);
      // Server text, one line each: a `\r` or an escape sequence cannot hide an entry.
      const created = inert(formatTimestamp(c.time, now), true);
      lines.push(`  - ${inert(c.tinker_path, true)} (${size}, created ${created})`);
    }
    lines.push(`\nTotal size: ${formatSize(total)}`);
  } else {
    for (const path of paths) lines.push(`  - ${inert(path, true)}`);
    lines.push("");
  }
  lines.push("WARNING: This action is permanent and cannot be undone.");
  ctx.out(`${lines.join("\n")}\n`);
  const prompt = `Are you sure you want to delete ${count} checkpoint(s)? [y/N]: `;
  for (;;) {
    ctx.out(prompt);
    const answer = await Promise.race([ctx.readLine(), aborted(ctx.signal)]);
    if (answer === null) {
      ctx.out("\n");
      throw new CliError(
        "Aborted: no answer to the confirmation prompt (end of input)",
        "Pass -y/--yes to delete without a prompt.",
        EXIT.error,
      );
    }
    const value = answer.trim().toLowerCase();
    if (value === "") return false;
    if (value === "y" || value === "yes") return true;
    if (value === "n" || value === "no") return false;
    ctx.out("Error: invalid input\n");
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/**
 * Deletes with up to 32 requests in flight; prints the official summary.
 * Unlike the official CLI (exit 0 regardless), a run where any deletion
 * failed ends with an error and exit code 1, after the summary.
 */
async function deletePaths(ctx: Context, rest: RestClient, paths: string[]): Promise<void> {
  const failed: { tinker_path: string; error: string }[] = [];
  let deleted = 0;
  let next = 0;
  if (ctx.format === "table") ctx.out("Deleting checkpoints\n");
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      try {
        await rest.deleteCheckpointFromTinkerPath(path, { signal: ctx.signal });
        deleted++;
      } catch (error) {
        ctx.checkInterrupted();
        failed.push({ tinker_path: path, error: pyErrorText(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, paths.length) }, worker));
  if (ctx.json) ctx.out(`${pyJson({ deleted_count: deleted, failed })}\n`);
  else {
    ctx.out(`Deleted ${deleted} checkpoint(s)\n`);
    if (failed.length) {
      ctx.out(`Failed to delete ${failed.length} checkpoint(s):\n`);
      for (const f of failed) {
        ctx.out(`  - ${inert(f.tinker_path, true)}: ${inert(f.error, true)}\n`);
      }
    }
  }
  if (failed.length) {
    throw new CliError(
      `Failed to delete ${failed.length} of ${paths.length} checkpoint(s)`,
      undefined,
      EXIT.error,
    );
  }
}

/** The official prefix check of path arguments. */
export function requireTinkerPath(path: string): string {
  if (!path.startsWith("tinker://")) {
    throw new CliError(`Invalid checkpoint path: ${path}`, PATH_FORMAT, EXIT.input);
  }
  return path;
}
