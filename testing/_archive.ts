/**
 * The contents of a checkpoint archive: a PEFT LoRA adapter as the hosted
 * service packs it (`adapter_config.json`, `adapter_model.safetensors`,
 * `checkpoint_complete`), with deterministic pseudo-random weights.
 *
 * @module
 */
import type { FakeCheckpoint, FakeRun } from "./_state.ts";
import { parseIso } from "./_state.ts";
import type { TarEntry } from "./_tar.ts";

const encoder = new TextEncoder();
const CHUNK = 65536;

/** The tar entries of `checkpoint`'s archive, with a safetensors file of exactly `adapterBytes` bytes. */
export function checkpointArchive(
  run: FakeRun,
  checkpoint: FakeCheckpoint,
  adapterBytes: number,
): TarEntry[] {
  const mtime = Math.floor(parseIso(checkpoint.time) / 1000);
  const rank = run.lora_rank ?? 32;
  const config = encoder.encode(JSON.stringify(
    {
      base_model_name_or_path: run.base_model,
      bias: "none",
      fan_in_fan_out: false,
      inference_mode: true,
      init_lora_weights: true,
      lora_alpha: rank,
      lora_dropout: 0,
      modules_to_save: null,
      peft_type: "LORA",
      r: rank,
      revision: null,
      target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
      task_type: "CAUSAL_LM",
      use_dora: false,
      use_rslora: false,
    },
    null,
    2,
  ));
  return [
    { name: "adapter_config.json", size: config.byteLength, mtime, content: () => [config] },
    {
      name: "adapter_model.safetensors",
      size: adapterBytes,
      mtime,
      content: () => safetensors(checkpoint.tinker_path, adapterBytes),
    },
    { name: "checkpoint_complete", size: 0, mtime, content: () => [] },
  ];
}

/**
 * A safetensors file of exactly `total` bytes: the 8-byte little-endian header length,
 * a JSON header describing one U8 tensor, then pseudo-random data seeded by `key`.
 * Below 256 bytes it is just pseudo-random bytes.
 */
export function* safetensors(key: string, total: number): Generator<Uint8Array> {
  if (total < 256) return yield* pseudoRandomBytes(key, total);
  let header = new Uint8Array();
  for (let data = total; 8 + header.byteLength + data !== total;) {
    data = total - 8 - header.byteLength;
    const text = JSON.stringify({
      __metadata__: { format: "pt" },
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": {
        dtype: "U8",
        shape: [data],
        data_offsets: [0, data],
      },
    });
    header = encoder.encode(text.padEnd(Math.ceil(text.length / 8) * 8, " "));
  }
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  yield prefix;
  yield header;
  yield* pseudoRandomBytes(key, total - 8 - header.byteLength);
}

/** `length` deterministic pseudo-random bytes (xorshift32 seeded by `key`), in 64 KiB chunks. */
export function* pseudoRandomBytes(key: string, length: number): Generator<Uint8Array> {
  let x = 2166136261;
  for (let i = 0; i < key.length; i++) x = Math.imul(x ^ key.charCodeAt(i), 16777619);
  x |= 1;
  for (let left = length; left > 0; left -= CHUNK) {
    const n = Math.min(CHUNK, left);
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    yield new Uint8Array(words.buffer, 0, n);
  }
}
