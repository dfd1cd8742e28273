/**
 * Helpers shared by the fake server's tests.
 *
 * @module
 */
import type { FakeTinker } from "./mod.ts";

/** A parsed response: status, headers and the JSON (or text) body. */
export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Calls the fake's API with its key (override with `init.headers`); reads the body. */
export async function call(
  fake: FakeTinker,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    redirect: "manual",
    headers: { "x-api-key": fake.apiKey, ...init.headers },
    body: init.body === undefined
      ? undefined
      : typeof init.body === "string"
      ? init.body
      : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body };
}

/** One file of a tar archive. */
export interface TarFile {
  name: string;
  size: number;
  data: Uint8Array;
}

/** A minimal ustar reader (regular files, octal sizes) for checking the fake's archives. */
export function readTar(bytes: Uint8Array): TarFile[] {
  const files: TarFile[] = [];
  const text = (at: number, len: number) =>
    new TextDecoder().decode(bytes.subarray(at, at + len)).replace(/\0.*$/s, "");
  for (let at = 0; at + 512 <= bytes.length;) {
    if (bytes.subarray(at, at + 512).every((b) => b === 0)) break;
    const sum = bytes.subarray(at, at + 512).reduce(
      (a, b, i) => a + (i >= 148 && i < 156 ? 32 : b),
      0,
    );
    if (sum !== parseInt(text(at + 148, 8), 8)) throw new Error(`bad checksum at ${at}`);
    if (text(at + 257, 6) !== "ustar") throw new Error("not ustar");
    const size = parseInt(text(at + 124, 12), 8);
    files.push({ name: text(at, 100), size, data: bytes.slice(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
