// The files and paths of the CLI's downloads, exports and stored key.
// Deno gets its own API: importing `node:fs` or `node:path` there loads
// Deno's Node compatibility layer, ~35 ms and ~13 MB before the first byte
// (7 MB more at the peak of a 1 GiB download). Bun and Node use `node:fs`.
// Paths are POSIX paths done here (tested against `node:path.posix`), except
// on Windows, which gets `node:path`.

/** A file open for writing, written synchronously. */
export interface SyncFile {
  /** Writes from `data[offset, offset + length)`; returns the bytes written. */
  write(data: Uint8Array, offset: number, length: number): number;
  close(): void;
}

/** A file open for writing, written asynchronously. */
export interface AsyncFile {
  /** Writes from `data[offset, offset + length)`; resolves with the bytes written. */
  write(data: Uint8Array, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

/** Path operations, as `node:path` has them. */
export interface Paths {
  sep: string;
  resolve(...paths: string[]): string;
  join(...paths: string[]): string;
  dirname(path: string): string;
}

/** What the CLI does with files (errors keep their `code`, e.g. `ENOENT`). */
export interface Files extends Paths {
  exists(path: string): Promise<boolean>;
  /** Creates `path` and its parents. */
  mkdir(path: string): Promise<void>;
  /** A new directory `prefix` + random characters. */
  mkdtemp(prefix: string): Promise<string>;
  chmod(path: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes `path` and what is under it; nothing when it does not exist. */
  remove(path: string): Promise<void>;
  /** The names in a directory. */
  list(path: string): Promise<string[]>;
  readText(path: string): Promise<string>;
  writeText(path: string, text: string): Promise<void>;
  /** Creates or truncates `path` (`mode` when created). */
  open(path: string, mode: number): Promise<AsyncFile>;
  mkdirSync(path: string): void;
  /** Creates or truncates `path` (`mode` when created). */
  openSync(path: string, mode: number): SyncFile;
  /** Sets the access and modification times, in seconds. */
  setTimesSync(path: string, seconds: number): void;
}

interface DenoFile {
  write(data: Uint8Array): Promise<number>;
  writeSync(data: Uint8Array): number;
  close(): void;
}

interface DenoFs {
  build: { os: string };
  cwd(): string;
  stat(path: string): Promise<unknown>;
  mkdir(path: string, options: { recursive: boolean; mode?: number }): Promise<void>;
  mkdirSync(path: string, options: { recursive: boolean }): void;
  chmod(path: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string, options: { recursive: boolean }): Promise<void>;
  readDir(path: string): AsyncIterable<{ name: string }>;
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  open(path: string, options: OpenOptions): Promise<DenoFile>;
  openSync(path: string, options: OpenOptions): DenoFile;
  utimeSync(path: string, atime: number, mtime: number): void;
}

interface OpenOptions {
  write: true;
  create: true;
  truncate: true;
  mode: number;
}

let loaded: Promise<Files> | undefined;

/** The files of this runtime (loaded once). */
export function files(): Promise<Files> {
  const deno = (globalThis as { Deno?: DenoFs }).Deno;
  loaded ??= typeof deno?.openSync === "function" ? denoFiles(deno) : nodeFiles();
  return loaded;
}

async function denoFiles(deno: DenoFs): Promise<Files> {
  const paths = deno.build.os === "windows"
    ? await import("node:path")
    : posixPaths(() => deno.cwd());
  const writeOptions = (mode: number): OpenOptions => ({
    write: true,
    create: true,
    truncate: true,
    mode,
  });
  return {
    sep: paths.sep,
    resolve: paths.resolve,
    join: paths.join,
    dirname: paths.dirname,
    exists: (path) => deno.stat(path).then(() => true, () => false),
    mkdir: (path) => deno.mkdir(path, { recursive: true }),
    async mkdtemp(prefix) {
      // Deno.makeTempDir refuses a ":" in the prefix (tinker paths have them).
      for (let attempt = 0;; attempt++) {
        const path = prefix + crypto.randomUUID().slice(0, 6);
        try {
          await deno.mkdir(path, { recursive: false, mode: 0o700 });
          return path;
        } catch (error) {
          if ((error as { code?: string })?.code !== "EEXIST" || attempt >= 100) throw error;
        }
      }
    },
    chmod: (path, mode) => deno.chmod(path, mode),
    rename: (from, to) => deno.rename(from, to),
    remove: (path) =>
      deno.remove(path, { recursive: true }).catch((error: { code?: string }) => {
        if (error?.code !== "ENOENT") throw error;
      }),
    async list(path) {
      const names: string[] = [];
      for await (const entry of deno.readDir(path)) names.push(entry.name);
      return names;
    },
    readText: (path) => deno.readTextFile(path),
    writeText: (path, text) => deno.writeTextFile(path, text),
    async open(path, mode) {
      const file = await deno.open(path, writeOptions(mode));
      return {
        write: (data, offset, length) => file.write(data.subarray(offset, offset + length)),
        close: () => Promise.resolve(file.close()),
      };
    },
    mkdirSync: (path) => deno.mkdirSync(path, { recursive: true }),
    openSync(path, mode) {
      const file = deno.openSync(path, writeOptions(mode));
      return {
        write: (data, offset, length) => file.writeSync(data.subarray(offset, offset + length)),
        close: () => file.close(),
      };
    },
    setTimesSync: (path, seconds) => deno.utimeSync(path, seconds, seconds),
  };
}

async function nodeFiles(): Promise<Files> {
  const [fs, fsp, paths] = await Promise.all([
    import("node:fs"),
    import("node:fs/promises"),
    import("node:path"),
  ]);
  return {
    sep: paths.sep,
    resolve: paths.resolve,
    join: paths.join,
    dirname: paths.dirname,
    exists: (path) => fsp.stat(path).then(() => true, () => false),
    mkdir: async (path) => void await fsp.mkdir(path, { recursive: true }),
    mkdtemp: (prefix) => fsp.mkdtemp(prefix),
    chmod: (path, mode) => fsp.chmod(path, mode),
    rename: (from, to) => fsp.rename(from, to),
    remove: (path) => fsp.rm(path, { recursive: true, force: true }),
    list: (path) => fsp.readdir(path),
    readText: (path) => fsp.readFile(path, "utf8"),
    writeText: (path, text) => fsp.writeFile(path, text),
    async open(path, mode) {
      const handle = await fsp.open(path, "w", mode);
      return {
        write: async (data, offset, length) =>
          (await handle.write(data, offset, length)).bytesWritten,
        close: () => handle.close(),
      };
    },
    mkdirSync: (path) => void fs.mkdirSync(path, { recursive: true }),
    openSync(path, mode) {
      const fd = fs.openSync(path, "w", mode);
      return {
        write: (data, offset, length) => fs.writeSync(fd, data, offset, length),
        close: () => fs.closeSync(fd),
      };
    },
    setTimesSync: (path, seconds) => fs.utimesSync(path, seconds, seconds),
  };
}

/** `node:path.posix`'s `resolve`, `join` and `dirname`, with `cwd` for relative paths. */
export function posixPaths(cwd: () => string): Paths {
  return {
    sep: "/",
    resolve(...paths) {
      let joined = "";
      for (let i = paths.length - 1; i >= 0 && !joined.startsWith("/"); i--) {
        if (paths[i] !== "") joined = joined === "" ? paths[i]! : `${paths[i]}/${joined}`;
      }
      if (!joined.startsWith("/")) joined = joined === "" ? cwd() : `${cwd()}/${joined}`;
      return normalize(joined, true);
    },
    join(...paths) {
      const joined = paths.filter((p) => p !== "").join("/");
      if (joined === "") return ".";
      const absolute = joined.startsWith("/");
      let out = normalize(joined, absolute);
      if (joined.endsWith("/") && out !== "/") out += "/";
      return out;
    },
    dirname(path) {
      // The last slash before the last name (trailing slashes skipped); a
      // run of slashes before it is kept, as Node keeps it.
      if (path === "") return ".";
      let end = -1;
      let inName = false;
      for (let i = path.length - 1; i >= 1; i--) {
        if (path[i] !== "/") inName = true;
        else if (inName) {
          end = i;
          break;
        }
      }
      const rooted = path[0] === "/";
      if (end === -1) return rooted ? "/" : ".";
      return rooted && end === 1 ? "//" : path.slice(0, end);
    },
  };
}

/** `.` and `..` segments resolved, repeated slashes dropped; no trailing slash. */
function normalize(path: string, absolute: boolean): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") out.push(part);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!absolute) out.push("..");
  }
  const body = out.join("/");
  return absolute ? `/${body}` : body || ".";
}
