/**
 * A tour of the `tinker` CLI against a local fake Tinker server: no account,
 * no network. Each command line is printed before its output.
 *
 * ```sh
 * deno task demo
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { main } from "../cli/_entry.ts";
import { FAKE_IDS, spawnFakeTinker } from "../testing/mod.ts";

// The standalone fake (its own process), holding 1 GiB weights files.
const fake = await spawnFakeTinker({
  archiveBytes: 1024 ** 3,
  tracePendingCount: 0,
  tokenDelayMs: 15, // The chat answer streams in visibly, token by token.
});
const dir = await mkdtemp(join(tmpdir(), "tinker-demo-"));
const env = { ...process.env, TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url };
const tty = process.stdout.isTTY === true;
const bold = (text: string) => (tty && !process.env.NO_COLOR ? `\x1b[1m${text}\x1b[0m` : text);
const quote = (arg: string) => (/^[\w\-.:/=,]+$/.test(arg) ? arg : `'${arg}'`);

async function show(args: string[], stdin = ""): Promise<void> {
  process.stdout.write(`\n${bold(`$ tinker ${args.map(quote).join(" ")}`)}\n`);
  if (stdin) process.stdout.write(`(answering ${JSON.stringify(stdin.trim())} on stdin)\n`);
  const code = await main(args, { env, cwd: dir, stdin });
  if (code !== 0) process.stdout.write(`[exit ${code}]\n`);
}

/** The downloaded files against the fake's own digests, and the export's cleanup in its log. */
async function verifyExport(downloaded: string): Promise<void> {
  const log = await fake.requests();
  const save = log.find((r) => r.path === "/api/v1/save_weights_external");
  const model = (save?.json as { model_id: string } | undefined)?.model_id;
  const exported = `tinker://${model}/external_weights/download`;
  const digests = await fake.fileDigests(exported);
  process.stdout.write(`\nThe fake's SHA-256 of ${exported}, and of the files on disk:\n`);
  for (const file of (await readdir(downloaded)).sort()) {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(join(downloaded, file))) hash.update(chunk);
    const ours = hash.digest("hex");
    const same = ours === digests[file] ? "equal" : "DIFFERENT";
    process.stdout.write(`  ${file}: ${digests[file]?.slice(0, 16)}… ${same}\n`);
  }
  for (const r of log) {
    if (r.method === "DELETE" || r.path.endsWith("/finish")) {
      process.stdout.write(`  request log: ${r.method} ${r.path} ${r.body} → ${r.status}\n`);
    }
  }
}

try {
  process.stdout.write(
    `A fake Tinker server is running at ${fake.url}; TINKER_API_KEY=${fake.apiKey}\n`,
  );
  await show(["run", "list", "--limit", "5"]);
  await show(["checkpoint", "list", "--run-id", FAKE_IDS.run]);
  await show(["checkpoint", "info", FAKE_IDS.checkpointPath]);
  await show(["-f", "json", "checkpoint", "info", FAKE_IDS.checkpointPath]);
  await show(["checkpoint", "publish", FAKE_IDS.checkpointPath]);
  await show(["checkpoint", "set-ttl", FAKE_IDS.checkpointPath, "--ttl", "604800"]);
  await show(["checkpoint", "list", "--run-id", FAKE_IDS.run]);
  await fake.clearLog();
  await show(["checkpoint", "download", FAKE_IDS.checkpointPath, "-o", "models"]);
  const name = FAKE_IDS.checkpointPath.replace("tinker://", "").replaceAll("/", "_");
  await verifyExport(join(dir, "models", name));
  // Talk to a checkpoint: the OpenAI-compatible endpoint, streamed as it is generated.
  await show(["chat", FAKE_IDS.publicCheckpointPath, "hello"]);
  await show(["model", "list", "--sampleable"]);
  await show(["checkpoint", "delete", FAKE_IDS.checkpointPath], "y\n");
  await show(["run", "info", "no-such-run"]);
  process.stdout.write(`\nDone. (Downloads went to ${dir}, now removed.)\n`);
} finally {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
}
