// The CLI's bootstrap cache: the server's client config (feature flags, no
// secret) per base URL and key fingerprint, in one small JSON file in the
// user's cache directory, so a command sends one request instead of two.
// What is stored, its key and its lifetime are the library's
// (`_bootstrap_cache.ts`); this file only keeps entries safely on disk:
// written whole (a temp file renamed over), owner-only (0600 in a 0700
// directory), and read only from a regular file of ours that no one else
// may write (links followed: the file read is the one checked). Anything
// else is a miss. The same in Deno, Bun and Node.

import type { BootstrapCache } from "../internal/_bootstrap_cache.ts";
import { BOOTSTRAP_CACHE_TTL_MS } from "../internal/_bootstrap_cache.ts";

/** The directory's name under the platform's cache directory. */
const DIR_NAME = "tinker-ts";
const FILE_NAME = "bootstrap.json";
/** Entries kept in the file (one per base URL and key used lately). */
const MAX_ENTRIES = 16;
const MAX_FILE_BYTES = 64 * 1024;

interface Stat {
  isFile: boolean;
  isDirectory: boolean;
  uid: number | null;
  mode: number | null;
  size: number;
}

/** The file operations the cache needs, per runtime. */
interface CacheFs {
  os: string;
  /** Whether reading and writing under `dir` is allowed without a prompt. */
  allowed(dir: string): boolean;
  /**
   * The text of `path` and the status of the file read (symbolic links
   * followed), asked first: what {@linkcode readable} refuses is not read.
   */
  read(path: string): Promise<{ text: string; stat: Stat }>;
  /** The user id, or null where there is none (Windows). */
  uid(): Promise<number | null>;
  /** Loads what `write` needs, where that takes a while (`node:fs` in Bun). */
  prepareWrite?(): void;
  /** Writes `text` to `path` in `dir`, owner-only (they run while the command waits for the network). */
  write(dir: string, path: string, text: string): Promise<void>;
}

interface SyncFs {
  /** Status of `path` itself (a link is not followed). */
  lstat(path: string): Stat & { isSymlink: boolean };
  /** Creates `path` (it must not exist) with mode 0600 and writes `text`. */
  writeNew(path: string, text: string): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
  mkdir(path: string): void;
}

/**
 * The cache directory of the platform, `tinker-ts` under it: Windows
 * `%LOCALAPPDATA%`, macOS `~/Library/Caches`, elsewhere `$XDG_CACHE_HOME`
 * (when absolute) else `~/.cache`. Undefined when the environment names none.
 */
export function cacheDirectory(
  env: Record<string, string | undefined>,
  os: string,
): string | undefined {
  if (os === "windows" || os === "win32") {
    const local = env.LOCALAPPDATA?.trim();
    return local && /^([A-Za-z]:[\\/]|\\\\)/.test(local)
      ? `${trim(local, "\\/")}\\${DIR_NAME}`
      : undefined;
  }
  const home = env.HOME?.trim();
  if (os === "darwin") {
    return home?.startsWith("/") ? `${trim(home)}/Library/Caches/${DIR_NAME}` : undefined;
  }
  const xdg = env.XDG_CACHE_HOME?.trim();
  if (xdg?.startsWith("/")) return `${trim(xdg)}/${DIR_NAME}`;
  return home?.startsWith("/") ? `${trim(home)}/.cache/${DIR_NAME}` : undefined;
}

/** Whether the environment turns the cache off (`TINKER_NO_CACHE` set, and not `0`/`false`). */
export function cacheDisabled(env: Record<string, string | undefined>): boolean {
  const value = env.TINKER_NO_CACHE?.trim().toLowerCase();
  return value !== undefined && value !== "" && value !== "0" && value !== "false";
}

/**
 * The file-backed bootstrap cache for `env`, its file already being read, or
 * undefined when it is turned off, the platform has no cache directory, or
 * the runtime may not use it (Deno without the permissions). Wait for
 * `ready` before the client's first call and for `settle` before exiting.
 */
export function openBootstrapCache(
  env: Record<string, string | undefined>,
): FileCache | undefined {
  if (cacheDisabled(env)) return undefined;
  const fs = cacheFs();
  const dir = cacheDirectory(env, fs.os);
  if (dir === undefined || !fs.allowed(dir)) return undefined;
  const early = prefetched?.dir === dir ? prefetched.reading : undefined;
  prefetched = undefined; // Used once: a later run in this process reads the file again.
  return new FileCache(fs, dir, early);
}

let prefetched: { dir: string; reading: Promise<Reading> } | undefined;

/**
 * Starts reading the cache file of `env` at once (the CLI's process entry
 * calls it first thing), so the read overlaps loading the CLI; the next
 * `openBootstrapCache` for the same directory takes it over.
 */
export function prefetchBootstrapCache(env: Record<string, string | undefined>): void {
  if (cacheDisabled(env)) return;
  const fs = cacheFs();
  const dir = cacheDirectory(env, fs.os);
  if (dir === undefined || !fs.allowed(dir)) return;
  const reading = readFile(fs, filePath(fs, dir));
  prefetched = { dir, reading };
}

type Reading = { text: string; stat: Stat; uid: number | null } | undefined;

/** The file's text, status and this user's id; undefined when it cannot be read. */
async function readFile(fs: CacheFs, path: string): Promise<Reading> {
  try {
    const { text, stat } = await fs.read(path);
    return { text, stat, uid: await fs.uid() };
  } catch {
    return undefined;
  }
}

function filePath(fs: CacheFs, dir: string): string {
  return `${dir}${fs.os === "windows" || fs.os === "win32" ? "\\" : "/"}${FILE_NAME}`;
}

/**
 * One JSON file, `bootstrap.json`: `{ "version": 1, "entries": { key: entry } }`
 * (keys are the library's: base URL and key fingerprint). It is read once, at
 * once, so `get` answers from memory; writes rewrite the whole file (expired
 * entries pruned, the newest {@linkcode MAX_ENTRIES} kept), queue up in order
 * and run while the command waits for the network (in Bun, loading `node:fs`
 * alone costs ~1 ms at start): changes made together are written once, in a
 * later task (see {@linkcode afterThisTask}). Two processes writing at once
 * may lose one's entry: a later miss, nothing worse.
 */
export class FileCache implements BootstrapCache {
  #fs: CacheFs;
  #dir: string;
  #path: string;
  #entries = new Map<string, unknown>();
  #ready: Promise<void>;
  #queue: Promise<void> = Promise.resolve();
  /** A write is queued and has not yet read the entries: it will take later changes too. */
  #writePending = false;

  constructor(fs: CacheFs, dir: string, reading?: Promise<Reading>) {
    this.#fs = fs;
    this.#dir = dir;
    this.#path = filePath(fs, dir);
    this.#ready = this.#load(reading ?? readFile(fs, this.#path));
  }

  /** Resolves when the file has been read (or found missing, foreign or corrupt: empty). */
  ready(): Promise<void> {
    return this.#ready;
  }

  get(key: string): unknown {
    const entry = this.#entries.get(key);
    // A miss (or an expired entry) is followed by a store once the server
    // has answered: the writer loads in a later task, while that request is
    // in flight, not after the command's own request is sent (where, in
    // Bun, loading `node:fs` outlasts a loopback round trip).
    if (!isLive(entry, Date.now())) afterThisTask().then(() => this.#fs.prepareWrite?.());
    return entry;
  }

  set(key: string, entry: unknown): void {
    this.#entries.delete(key); // Re-inserted last: the newest.
    this.#entries.set(key, entry);
    this.#save();
  }

  delete(key: string): void {
    if (this.#entries.delete(key)) this.#save();
  }

  /** Resolves when every write asked for so far is done (or failed: a cache never fails a command). */
  settle(): Promise<void> {
    return this.#queue;
  }

  async #load(reading: Promise<Reading>): Promise<void> {
    try {
      const read = await reading;
      if (read === undefined) return;
      const { text, stat, uid } = read;
      if (!ours(stat, uid)) return;
      if (text.length > MAX_FILE_BYTES) return; // It grew after its status was asked.
      const data = JSON.parse(text) as { version?: unknown; entries?: unknown };
      const entries = data?.entries;
      if (data?.version !== 1 || typeof entries !== "object" || entries === null) return;
      for (const [key, entry] of Object.entries(entries)) this.#entries.set(key, entry);
    } catch {
      // Missing, unreadable or corrupt: empty.
    }
  }

  #save(): void {
    if (this.#writePending) return;
    this.#writePending = true;
    this.#queue = this.#queue.then(afterThisTask).then(async () => {
      this.#writePending = false;
      try {
        await this.#fs.write(this.#dir, this.#path, this.#text());
      } catch {
        // Not written: the next command asks the server again.
      }
    });
  }

  /** The file's text: live entries, the newest {@linkcode MAX_ENTRIES}. */
  #text(): string {
    const now = Date.now();
    const live = [...this.#entries].filter(([, entry]) => isLive(entry, now));
    return JSON.stringify({ version: 1, entries: Object.fromEntries(live.slice(-MAX_ENTRIES)) });
  }
}

/**
 * Resolves in a later task, so a write asked for during a call (the
 * bootstrap's config, stored before the call's own request is sent) runs
 * once that request is on its way, not before it (a cold `run list`: the
 * second request 0.3 ms sooner). Deno: at once (microtask), since its first
 * `setTimeout` loads its Node timers (6–8 ms).
 */
function afterThisTask(): Promise<void> {
  if ("Deno" in globalThis) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * The atomic write: the directory created (0700) if needed and checked to be
 * ours and private, `text` into a new temp file (0600) beside `path`, then
 * renamed over `path`.
 */
function syncWrite(fs: SyncFs, uid: number | null, dir: string, path: string, text: string): void {
  fs.mkdir(dir);
  const stat = fs.lstat(dir);
  if (stat.isSymlink || !stat.isDirectory || !ours(stat, uid)) return;
  const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    fs.writeNew(temp, text);
    fs.rename(temp, path);
  } catch (error) {
    try {
      fs.remove(temp);
    } catch {
      // Never written.
    }
    throw error;
  }
}

/** Whether `entry` was stored less than the cache's lifetime before `now` (the library checks the rest). */
function isLive(entry: unknown, now: number): boolean {
  const at = (entry as { storedAt?: unknown } | undefined)?.storedAt;
  return typeof at === "number" && now - at < BOOTSTRAP_CACHE_TTL_MS;
}

/** Owned by this user (where there are users), and no one else may write it. */
function ours(stat: Stat, uid: number | null): boolean {
  if (uid !== null && stat.uid !== null && stat.uid !== uid) return false;
  return stat.mode === null || (stat.mode & 0o022) === 0;
}

/** `path` without trailing separators (any of `separators`), a root kept. (No regex: it runs at every start.) */
function trim(path: string, separators = "/"): string {
  let end = path.length;
  while (end > 1 && separators.includes(path[end - 1]!)) end--;
  return path.slice(0, end);
}

interface DenoFs {
  build: { os: string };
  uid(): number | null;
  permissions: {
    querySync?(desc: { name: string; path?: string; kind?: string }): { state: string };
  };
  statSync(path: string): Stat;
  lstatSync(path: string): Stat & { isSymlink: boolean };
  readTextFileSync(path: string): string;
  writeTextFileSync(path: string, text: string, options: { createNew: true; mode: number }): void;
  renameSync(from: string, to: string): void;
  removeSync(path: string): void;
  mkdirSync(path: string, options: { recursive: true; mode: number }): void;
}

interface NodeProcessLike {
  platform: string;
  getuid?: () => number;
}

interface BunLike {
  mmap(path: string): Uint8Array;
  file(path: string): { stat(): Promise<NodeStat> };
}

function cacheFs(): CacheFs {
  const deno = (globalThis as { Deno?: DenoFs }).Deno;
  if (typeof deno?.lstatSync === "function") return denoFs(deno);
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  const process = (globalThis as { process?: NodeProcessLike }).process;
  const os = process?.platform ?? "linux";
  const windows = os === "win32";
  const uid = () => windows ? null : process?.getuid?.() ?? null;
  let nodeFs: Promise<typeof import("node:fs")> | undefined;
  const loadFs = () => nodeFs ??= import("node:fs");
  const write = async (dir: string, path: string, text: string) => {
    syncWrite(nodeSync(await loadFs(), windows), uid(), dir, path, text);
  };
  if (bun && typeof bun.mmap === "function" && typeof bun.file === "function") {
    return {
      os,
      allowed: () => true,
      uid: () => Promise.resolve(uid()),
      read: bunRead(bun, windows),
      prepareWrite: () => void loadFs().catch(() => {}),
      write,
    };
  }
  return {
    os,
    allowed: () => true,
    uid: () => Promise.resolve(uid()),
    async read(path) {
      const fs = await import("node:fs");
      const stat = readable(statOf(fs.statSync(path), windows));
      return { text: fs.readFileSync(path, "utf8"), stat };
    },
    write,
  };
}

/**
 * Bun reads without `node:fs` (loading it costs 1–2 ms at start there, where
 * a command takes ~10): the status by `Bun.file().stat()`, whose thread-pool
 * round trip overlaps loading the CLI, then the text by `mmap` (synchronous,
 * nearly free). Writes use `node:fs` like Node's: they run while the
 * command waits for the network, once an hour.
 */
function bunRead(bun: BunLike, windows: boolean): CacheFs["read"] {
  return async (path) => {
    const stat = readable(statOf(await bun.file(path).stat(), windows));
    return { text: new TextDecoder().decode(bun.mmap(path)), stat };
  };
}

function denoFs(deno: DenoFs): CacheFs {
  const granted = (desc: { name: string; path?: string; kind?: string }) =>
    deno.permissions.querySync?.(desc).state === "granted";
  const windows = deno.build.os === "windows";
  const sync: SyncFs = {
    lstat: (path) => deno.lstatSync(path),
    writeNew: (path, text) => deno.writeTextFileSync(path, text, { createNew: true, mode: 0o600 }),
    rename: (from, to) => deno.renameSync(from, to),
    remove: (path) => deno.removeSync(path),
    mkdir: (path) => deno.mkdirSync(path, { recursive: true, mode: 0o700 }),
  };
  const uid = () => windows ? null : deno.uid();
  return {
    os: deno.build.os,
    allowed: (dir) =>
      granted({ name: "read", path: dir }) && granted({ name: "write", path: dir }) &&
      (windows || granted({ name: "sys", kind: "uid" })),
    read(path) {
      const stat = readable(deno.statSync(path));
      return Promise.resolve({ text: deno.readTextFileSync(path), stat });
    },
    uid: () => Promise.resolve(uid()),
    write: (dir, path, text) => Promise.resolve(syncWrite(sync, uid(), dir, path, text)),
  };
}

type NodeStat = {
  isFile(): boolean;
  isDirectory(): boolean;
  uid: number;
  mode: number;
  size: number;
};

function statOf(stat: NodeStat, windows: boolean): Stat {
  return {
    isFile: stat.isFile(),
    isDirectory: stat.isDirectory(),
    uid: windows ? null : stat.uid,
    mode: windows ? null : stat.mode,
    size: stat.size,
  };
}

/**
 * `stat`, when the file it describes may be read: a regular file (a FIFO or
 * a device at the cache's path would block or never end) of at most
 * {@linkcode MAX_FILE_BYTES}. Throws otherwise (a miss).
 */
function readable(stat: Stat): Stat {
  if (!stat.isFile) throw new TypeError("the cache file is not a regular file");
  if (stat.size > MAX_FILE_BYTES) throw new RangeError("the cache file is too large");
  return stat;
}

function nodeSync(fs: typeof import("node:fs"), windows: boolean): SyncFs {
  return {
    lstat(path) {
      const stat = fs.lstatSync(path);
      return { ...statOf(stat, windows), isSymlink: stat.isSymbolicLink() };
    },
    writeNew: (path, text) => fs.writeFileSync(path, text, { flag: "wx", mode: 0o600 }),
    rename: (from, to) => fs.renameSync(from, to),
    remove: (path) => fs.unlinkSync(path),
    mkdir: (path) => void fs.mkdirSync(path, { recursive: true, mode: 0o700 }),
  };
}
