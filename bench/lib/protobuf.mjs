// A minimal protocol-buffers *writer*, enough to emit an ONNX ModelProto (bench/lib/onnx.mjs).
// Hand-written instead of a protobuf package: the ONNX subset we need is five field kinds, and
// this keeps the bench free of code generation and .proto files.
//
// Wire format (https://protobuf.dev/programming-guides/encoding/): every field is a key
// varint(field_number << 3 | wire_type) followed by its value:
//   wire type 0 (VARINT)  int32 / int64 / enum / bool as a base-128 varint, low 7 bits first
//   wire type 2 (LEN)     varint byte length, then the bytes (string, bytes, nested message,
//                         packed repeated scalars)
//   wire type 5 (I32)     fixed 4 bytes little-endian (float)
// Repeated fields are simply the same key written again.

const VARINT = 0;
const LEN = 2;
const I32 = 5;

const utf8 = new TextEncoder();

export class ProtoWriter {
  #chunks = [];
  #length = 0;

  get length() { return this.#length; }

  #push(bytes) {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  /** Unsigned base-128 varint. Values up to 2^53 (plenty for sizes, dims and enums). */
  #varint(value) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`protobuf: varint must be a non-negative safe integer, got ${String(value).slice(0, 40)}`);
    }
    const out = [];
    let v = value;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.#push(Uint8Array.from(out));
  }

  #key(field, wireType) {
    this.#varint(field * 8 + wireType);
  }

  /** int32 / int64 / enum field (non-negative values only: all ONNX needs here). */
  int(field, value) {
    this.#key(field, VARINT);
    this.#varint(value);
    return this;
  }

  float(field, value) {
    this.#key(field, I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  bytes(field, data) {
    this.#key(field, LEN);
    this.#varint(data.length);
    this.#push(data);
    return this;
  }

  string(field, text) {
    return this.bytes(field, utf8.encode(text));
  }

  /** Nested message: `build` fills a fresh writer, which is written length-delimited. */
  message(field, build) {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish() {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
