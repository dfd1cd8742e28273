/**
 * Helpers of the TuFT interoperability test: start a TuFT server (pinned, in
 * its own venv, CPU test mode) on 127.0.0.1 with two users, and run Python
 * programs of that venv with a deadline. Every process started here stops by
 * itself: the server has a watchdog (a time limit, and it exits when its
 * parent goes away) and is killed on `close()`; Python programs are killed at
 * their deadline.
 *
 * @module
 */

/** The two users named in the server's config, by API key. */
export const TUFT_USERS = { a: "tml-interop-alice", b: "tml-interop-bob" } as const;

/** The model TuFT serves (dummy backends: no weights are read). */
export const TUFT_MODEL = "Qwen/Qwen3-4B";

const here = new URL(".", import.meta.url).pathname;

/** A running TuFT server. */
export interface Tuft extends AsyncDisposable {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** Where TuFT writes checkpoints (its archive "URLs" point here). */
  checkpointDir: string;
  /** The server's output so far (for failure messages). */
  output(): string;
  /** Stops the server and removes its files. */
  close(): Promise<void>;
}

/** What a Python program printed, and its exit code. */
export interface PythonResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `<venv>/bin/python args…` with `stdin`, killed after `timeoutMs`
 * (reported as a failure naming the deadline, never a hang).
 */
export async function python(
  venv: string,
  args: string[],
  options: { stdin?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<PythonResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = new Deno.Command(`${venv}/bin/python`, {
    args,
    env: { TINKER_TELEMETRY: "0", PYTHONFAULTHANDLER: "1", ...options.env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin ?? ""));
    await writer.close();
    const { code, stdout, stderr, signal } = await child.output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    if (signal === "SIGKILL") {
      throw new Error(`python ${args.join(" ")}: killed after ${timeoutMs} ms\n${text(stderr)}`);
    }
    return { code, stdout: text(stdout), stderr: text(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** A free TCP port on 127.0.0.1. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts TuFT from `venv` with `TUFT_CPU_TEST=1`, the import-time stand-ins
 * of `standins/` on its PYTHONPATH, a config naming the two users of
 * {@linkcode TUFT_USERS}, no persistence, and a watchdog of `watchdogSeconds`.
 * Resolves once `GET /api/v1/healthz` answers.
 */
export async function startTuft(venv: string, watchdogSeconds = 600): Promise<Tuft> {
  const dir = await Deno.makeTempDir({ prefix: "tinker-interop-tuft-" });
  const checkpointDir = `${dir}/checkpoints`;
  const config = `${dir}/tuft.yaml`;
  await Deno.writeTextFile(
    config,
    [
      "supported_models:",
      `  - model_name: ${TUFT_MODEL}`,
      "    model_path: /dummy/qwen-model",
      "    max_model_len: 2048",
      "authorized_users:",
      `  ${TUFT_USERS.a}: alice`,
      `  ${TUFT_USERS.b}: bob`,
      "persistence:",
      "  mode: DISABLE",
      "",
    ].join("\n"),
  );
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(`${venv}/bin/python`, {
    args: [
      `${here}serve_tuft.py`,
      String(watchdogSeconds),
      ...["--config", config, "--host", "127.0.0.1", "--port", String(port)],
      ...["--checkpoint-dir", checkpointDir, "--log-level", "warning"],
    ],
    env: {
      TUFT_CPU_TEST: "1",
      TUFT_HOME: `${dir}/home`,
      PYTHONPATH: `${here}standins`,
      TINKER_TELEMETRY: "0",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output = (output + chunk).slice(-20_000);
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const close = async () => {
    if (!exited) child.kill("SIGTERM");
    const killer = setTimeout(() => exited || child.kill("SIGKILL"), 5_000);
    await status;
    clearTimeout(killer);
    await pumped;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 60_000;
  while (true) {
    if (exited) {
      await close();
      throw new Error(`TuFT exited before it was ready:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/api/v1/healthz`, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      if (response.ok) break;
      if (Date.now() > deadline) throw new Error(`healthz answered ${response.status}: ${body}`);
    } catch (error) {
      if (Date.now() > deadline) {
        await close();
        throw new Error(`TuFT did not answer /api/v1/healthz within 60 s: ${error}\n${output}`);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, checkpointDir, output: () => output, close, [Symbol.asyncDispose]: close };
}
