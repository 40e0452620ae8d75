// Reader and writer for the Hugging Face `.safetensors` format
// (https://github.com/huggingface/safetensors, "Format" section of its README):
//   8 bytes   N, little-endian u64, the header length
//   N bytes   UTF-8 JSON object: { name: { dtype, shape, data_offsets: [begin, end] }, ...,
//             optional "__metadata__": { string: string } }
//   rest      the data region; offsets are relative to its start, tensors are little-endian,
//             row-major, and must tile the region exactly (no overlaps, no holes).
// The reader validates the whole file before it converts anything, and every problem is a
// FormatError. Tensors are always returned as float32.

import { FormatError } from '../errors.js';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16';
export interface Tensor32 { shape: number[]; data: Float32Array }
export interface SafetensorsFile { tensors: Record<string, Tensor32>; metadata: Record<string, string> }

const ITEM_SIZE: Record<DType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
const SUPPORTED = 'F32, F16, BF16, F64';
const MAX_HEADER = 100_000_000; // same bound as the reference implementation
const ENTRY_KEYS = new Set(['dtype', 'shape', 'data_offsets']);
const METADATA_KEY = '__metadata__';

function fail(msg: string): never {
  throw new FormatError(`safetensors: ${msg}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Element count of a shape; `what` names the tensor in error messages. */
function elementCount(shape: unknown, what: string): number {
  if (!Array.isArray(shape)) fail(`shape of ${what} must be an array`);
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`shape of ${what} has an invalid dimension ${JSON.stringify(d)}`);
  }
  if (shape.includes(0)) return 0;
  for (const d of shape as number[]) {
    count *= d;
    if (!Number.isSafeInteger(count)) fail(`shape of ${what} has too many elements`);
  }
  return count;
}

function checkMetadata(meta: unknown): Record<string, string> {
  if (!isPlainObject(meta)) fail(`${METADATA_KEY} must be an object of strings`);
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string') fail(`${METADATA_KEY} value for key '${k}' must be a string, got ${typeof v}`);
  }
  return Object.fromEntries(Object.entries(meta)) as Record<string, string>;
}

interface Entry { name: string; dtype: DType; shape: number[]; begin: number; end: number }

function checkEntry(name: string, raw: unknown, dataLength: number): Entry {
  const what = `tensor '${name}'`;
  if (!isPlainObject(raw)) fail(`header entry for ${what} must be an object`);
  for (const key of Object.keys(raw)) {
    if (!ENTRY_KEYS.has(key)) fail(`unknown key '${key}' in header entry for ${what}`);
  }
  for (const key of ENTRY_KEYS) {
    if (!Object.hasOwn(raw, key)) fail(`header entry for ${what} is missing '${key}'`);
  }
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') fail(`dtype of ${what} must be a string`);
  if (!Object.hasOwn(ITEM_SIZE, dtype)) fail(`unsupported dtype ${dtype} for ${what} (supported: ${SUPPORTED})`);
  const count = elementCount(shape, what);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(Number.isSafeInteger)) {
    fail(`data_offsets of ${what} must be two integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin < 0 || begin > end || end > dataLength) {
    fail(`data_offsets [${begin}, ${end}] of ${what} are out of range (data region is ${dataLength} bytes)`);
  }
  const expected = count * ITEM_SIZE[dtype as DType];
  if (end - begin !== expected) {
    fail(`${what} spans ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${expected}`);
  }
  return { name, dtype: dtype as DType, shape: [...(shape as number[])], begin, end };
}

/** The entries must tile [0, dataLength) exactly: no overlaps, no holes, no trailing bytes. */
function checkLayout(entries: Entry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) fail(`tensors '${prev!.name}' and '${e.name}' overlap`);
    if (e.begin > pos) fail(`hole in the data region: bytes ${pos}..${e.begin} before tensor '${e.name}' are unused`);
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLength) fail(`${dataLength - pos} trailing bytes in the data region after the last tensor`);
}

/** IEEE half-precision bits to single-precision bits (exact; keeps NaN payloads). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // Inf / NaN
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // normal: rebias 15 -> 127
  if (mant === 0) return sign >>> 0; // +-0
  let e = 113; // subnormal: mant * 2^-24, normalize so the implicit bit is set
  while ((mant & 0x400) === 0) { mant <<= 1; e--; }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

function decode(bytes: Uint8Array, start: number, e: Entry): Float32Array {
  const n = (e.end - e.begin) / ITEM_SIZE[e.dtype];
  const from = start + e.begin;
  if (e.dtype === 'F32') return new Float32Array(bytes.slice(from, from + 4 * n).buffer); // copy: aligned
  const view = new DataView(bytes.buffer, bytes.byteOffset + from, e.end - e.begin);
  const out = new Float32Array(n);
  if (e.dtype === 'F64') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
    return out;
  }
  const bits = new Uint32Array(out.buffer);
  if (e.dtype === 'BF16') for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16 >>> 0;
  else for (let i = 0; i < n; i++) bits[i] = f16BitsToF32Bits(view.getUint16(2 * i, true));
  return out;
}

/** Parse a whole file. F32 is read as is; F16, BF16 and F64 are converted to float32. */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer): SafetensorsFile {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) fail('input must be a Uint8Array or an ArrayBuffer');
  // A plain view: Node's Buffer (a Uint8Array subclass) has a `slice` that does not copy.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER) fail(`header length ${hi * 2 ** 32 + lo} is absurd (limit ${MAX_HEADER} bytes)`);
  if (8 + lo > bytes.length) fail(`header length ${lo} exceeds the file (${bytes.length - 8} bytes after the prefix): truncated`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + lo)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) fail('header must be a JSON object');

  const start = 8 + lo;
  const dataLength = bytes.length - start;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = checkMetadata(raw);
    else entries.push(checkEntry(name, raw, dataLength));
  }
  checkLayout(entries, dataLength);

  const tensors = Object.fromEntries(
    entries.map((e) => [e.name, { shape: e.shape, data: decode(bytes as Uint8Array, start, e) }]),
  );
  return { tensors, metadata };
}

/**
 * Serialize float32 tensors (dtype F32) with optional string metadata; tensors laid out in
 * insertion order, 8-byte aligned header (the JSON is padded with spaces so the data starts at
 * a multiple of 8).
 */
export function writeSafetensors(tensors: Record<string, { shape: readonly number[]; data: Float32Array }>, metadata?: Record<string, string>): Uint8Array {
  if (!isPlainObject(tensors)) fail('tensors must be an object of { shape, data }');
  const header: [string, unknown][] = [];
  if (metadata !== undefined) {
    const meta = checkMetadata(metadata);
    if (Object.keys(meta).length > 0) header.push([METADATA_KEY, meta]);
  }
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const what = `tensor '${name}'`;
    if (name === METADATA_KEY) fail(`'${METADATA_KEY}' is reserved and cannot name a tensor`);
    if (!isPlainObject(t) || !(t.data instanceof Float32Array)) fail(`${what} must be { shape, data: Float32Array }`);
    const count = elementCount(t.shape, what);
    if (t.data.length !== count) fail(`${what} has ${t.data.length} values but shape [${t.shape}] needs ${count}`);
    header.push([name, { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] }]);
    parts.push(t.data);
    offset += 4 * count;
  }

  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(header)));
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLength, true); // high 32 bits stay 0
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const data of parts) {
    // Raw float32 bytes; little-endian on every host this package targets.
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    pos += data.byteLength;
  }
  return out;
}
