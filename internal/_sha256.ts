// SHA-256 and HMAC-SHA256 of strings (their UTF-8 bytes), synchronously: Web
// Crypto's digest is async only, and the bootstrap cache's key and entry
// checks run inside the steps of a call, which `.result()` performs blocking.
// Used for the bootstrap cache's key fingerprints and entry MACs only.
// Bun's native hash where it exists: this code's first run, cold, costs
// ~0.5 ms there, a tenth of what a cached CLI command adds to its request.

const K = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

interface NativeBun {
  SHA256?: { hash(data: string, encoding: "hex"): string };
  CryptoHasher?: new (algorithm: "sha256", hmacKey?: string) => {
    update(data: string): { digest(encoding: "hex"): string };
  };
}

const native = (globalThis as { Bun?: NativeBun }).Bun;
const encoder = new TextEncoder();

/** The SHA-256 digest of `text`'s UTF-8 bytes, as 64 lower-case hex digits. */
export function sha256Hex(text: string): string {
  return typeof native?.SHA256?.hash === "function"
    ? native.SHA256.hash(text, "hex")
    : sha256Js(text);
}

/** HMAC-SHA256 of `text` under `key` (both UTF-8), as 64 lower-case hex digits. */
export function hmacSha256Hex(key: string, text: string): string {
  return typeof native?.CryptoHasher === "function"
    ? new native.CryptoHasher("sha256", key).update(text).digest("hex")
    : hmacJs(key, text);
}

/** SHA-256 in JavaScript (exported for the test that holds it to Web Crypto). */
export function sha256Js(text: string): string {
  return hex(digest(encoder.encode(text)));
}

/** HMAC-SHA256 in JavaScript (RFC 2104; exported for the test that holds it to Web Crypto). */
export function hmacJs(key: string, text: string): string {
  let k: Uint8Array = encoder.encode(key);
  if (k.length > 64) k = toBytes(digest(k));
  const inner = new Uint8Array(64);
  const outer = new Uint8Array(64);
  inner.set(k);
  outer.set(k);
  for (let i = 0; i < 64; i++) {
    inner[i]! ^= 0x36;
    outer[i]! ^= 0x5c;
  }
  const message = encoder.encode(text);
  const first = new Uint8Array(64 + message.length);
  first.set(inner);
  first.set(message, 64);
  const second = new Uint8Array(96);
  second.set(outer);
  second.set(toBytes(digest(first)), 64);
  return hex(digest(second));
}

function hex(words: Uint32Array): string {
  let out = "";
  for (const word of words) out += word.toString(16).padStart(8, "0");
  return out;
}

function toBytes(words: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(i * 4, words[i]!);
  return bytes;
}

/**
 * The eight digest words of `data`. Written for the interpreter: a process
 * hashes a few short strings once, before any JIT, so rotations are inlined
 * and the state lives in locals (a call per rotation doubled the time).
 */
function digest(data: Uint8Array): Uint32Array {
  const bits = data.length * 8;
  const padded = new Uint8Array((((data.length + 8) >> 6) + 1) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  let h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a;
  let h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
  const w = new Int32Array(64);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(block + i * 4);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!, y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  return new Uint32Array([h0, h1, h2, h3, h4, h5, h6, h7]);
}
