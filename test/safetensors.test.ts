import { describe, it, expect } from 'vitest';
import { readSafetensors, writeSafetensors, type Tensor32 } from '../src/io/safetensors.js';
import { FormatError } from '../src/errors.js';

// ---------------------------------------------------------------------------------------------
// helpers

/** Hand-build a file: u64 LE header length, the header text (JSON of `header` unless a string),
 *  then `data`. No padding, so offsets of the data region are arbitrary. */
function build(header: unknown, data: ArrayLike<number> = [], headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function u16le(values: number[]): number[] {
  return values.flatMap((v) => [v & 0xff, v >> 8]);
}
function f64le(values: number[]): number[] {
  const dv = new DataView(new ArrayBuffer(8 * values.length));
  values.forEach((v, i) => dv.setFloat64(8 * i, v, true));
  return [...new Uint8Array(dv.buffer)];
}
function f32le(values: number[]): number[] {
  const dv = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return [...new Uint8Array(dv.buffer)];
}
function fromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}
function bitsOf(a: Float32Array): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
}
function headerLengthOf(file: Uint8Array): number {
  return Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
}

function expectFormatError(fn: () => unknown, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a FormatError to be thrown').toBeInstanceOf(FormatError);
  if (message) expect((caught as Error).message).toMatch(message);
}

/** Small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small valid file mixing every supported dtype, with unaligned offsets. */
function mixedFile(): Uint8Array {
  return build(
    {
      __metadata__: { format: 'pt' },
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      w: { dtype: 'F32', shape: [2], data_offsets: [6, 14] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [14, 16] },
      d: { dtype: 'F64', shape: [1, 1], data_offsets: [16, 24] },
    },
    [...u16le([0x3c00, 0xc000, 0x0001]), ...f32le([0.5, -3]), ...u16le([0x3f80]), ...f64le([2.25])],
  );
}

// ---------------------------------------------------------------------------------------------

describe('writeSafetensors / readSafetensors round trip', () => {
  it('is bit-exact for special values, scalars, zero-size and strided-view tensors', () => {
    const base = new Float32Array(20).map((_, i) => i * 0.37 - 2.1);
    const tensors: Record<string, Tensor32> = {
      special: {
        shape: [2, 5],
        data: fromBits([
          0x7fc00000, // NaN
          0x80000000, // -0
          0x00000000, // +0
          0x00000001, // smallest subnormal
          0x807fffff, // largest negative subnormal
          0x7f800000, // +Inf
          0xff800000, // -Inf
          0x7f7fffff, // max float
          0x00800000, // min normal
          0x3f800000, // 1
        ]),
      },
      scalar: { shape: [], data: new Float32Array([3.5]) },
      empty: { shape: [0], data: new Float32Array(0) },
      'empty.3d': { shape: [2, 0, 3], data: new Float32Array(0) },
      'layer.0/权重': { shape: [3, 4], data: base.subarray(3, 15) }, // view with byteOffset 12
    };
    const file = writeSafetensors(tensors);
    const back = readSafetensors(file);
    expect(Object.keys(back.tensors)).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(bitsOf(back.tensors[name].data)).toEqual(bitsOf(t.data));
    }
    expect(back.metadata).toEqual({});
  });

  it('lays tensors out in insertion order with contiguous offsets', () => {
    const file = writeSafetensors({
      z: { shape: [2], data: new Float32Array([1, 2]) },
      a: { shape: [1, 3], data: new Float32Array([3, 4, 5]) },
    });
    const n = headerLengthOf(file);
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(['z', 'a']);
    expect(header.z).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    expect(header.a).toEqual({ dtype: 'F32', shape: [1, 3], data_offsets: [8, 20] });
    expect(file.length).toBe(8 + n + 20);
    expect([...new Float32Array(file.slice(8 + n).buffer)]).toEqual([1, 2, 3, 4, 5]);
  });

  it('round-trips metadata', () => {
    const metadata = { format: 'pt', note: 'ünïcødé "quoted" \n newline', empty: '' };
    const back = readSafetensors(writeSafetensors({ x: { shape: [1], data: new Float32Array([1]) } }, metadata));
    expect(back.metadata).toEqual(metadata);
    expect(readSafetensors(writeSafetensors({}, metadata))).toEqual({ tensors: {}, metadata });
  });

  it('treats a __proto__ tensor name as an ordinary key', () => {
    const tensors = Object.fromEntries([['__proto__', { shape: [1], data: new Float32Array([7]) }]]);
    const back = readSafetensors(writeSafetensors(tensors));
    expect(Object.keys(back.tensors)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(back.tensors)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back.tensors, '__proto__')!.value.data[0]).toBe(7);
  });

  it('pads the header with spaces so the data starts at a multiple of 8', () => {
    for (let len = 0; len < 24; len++) {
      const file = writeSafetensors({ ['n'.repeat(len)]: { shape: [1], data: new Float32Array([len]) } });
      const n = headerLengthOf(file);
      expect((8 + n) % 8).toBe(0);
      const text = new TextDecoder().decode(file.subarray(8, 8 + n));
      expect(text.startsWith('{')).toBe(true);
      expect(text.trimEnd().length).toBeGreaterThan(n - 8);
      expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
      expect(readSafetensors(file).tensors['n'.repeat(len)].data[0]).toBe(len);
    }
  });

  it('accepts an ArrayBuffer and a Uint8Array at an odd byte offset', () => {
    const file = writeSafetensors({ x: { shape: [3], data: new Float32Array([1, -2, 3]) } });
    const ab = file.slice().buffer;
    expect([...readSafetensors(ab).tensors.x.data]).toEqual([1, -2, 3]);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    expect([...readSafetensors(shifted.subarray(1)).tensors.x.data]).toEqual([1, -2, 3]);
  });

  it('accepts a Node Buffer inside a larger pool (Buffer#slice does not copy)', () => {
    const file = writeSafetensors({ x: { shape: [3], data: new Float32Array([1, -2, 3]) }, y: { shape: [1], data: new Float32Array([4]) } });
    const pool = Buffer.alloc(file.length + 64);
    pool.set(file, 32);
    const r = readSafetensors(pool.subarray(32, 32 + file.length));
    expect([...r.tensors.x.data]).toEqual([1, -2, 3]);
    expect([...r.tensors.y.data]).toEqual([4]);
  });
});

describe('dtype conversion', () => {
  it('converts F16, including subnormals, infinities and NaN', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x0001, 2 ** -24],
      [0x8001, -(2 ** -24)],
      [0x03ff, 1023 * 2 ** -24],
      [0x0200, 2 ** -15],
      [0x0400, 2 ** -14],
      [0x7bff, 65504],
      [0x3555, 0.333251953125],
      [0x0000, 0],
      [0x8000, -0],
    ];
    const halves = cases.map((c) => c[0]);
    const file = build({ h: { dtype: 'F16', shape: [cases.length], data_offsets: [0, 2 * cases.length] } }, u16le(halves));
    const data = readSafetensors(file).tensors.h.data;
    cases.forEach(([, want], i) => expect(Object.is(data[i], want), `0x${halves[i].toString(16)}`).toBe(true));

    const nan = build({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] } }, u16le([0x7e00, 0xfe00, 0x7c01]));
    expect([...readSafetensors(nan).tensors.h.data].every(Number.isNaN)).toBe(true);
  });

  it('matches a reference F16 decode for every one of the 65536 bit patterns', () => {
    const all = Array.from({ length: 65536 }, (_, i) => i);
    const file = build({ h: { dtype: 'F16', shape: [256, 256], data_offsets: [0, 131072] } }, u16le(all));
    const data = readSafetensors(file).tensors.h.data;
    for (const h of all) {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const want = e === 0x1f ? (m ? NaN : s * Infinity) : e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
      if (!Object.is(data[h], want)) expect.fail(`F16 0x${h.toString(16)}: got ${data[h]}, want ${want}`);
    }
  });

  it('converts BF16 as the top 16 bits of a float32', () => {
    const halves = [0x3f80, 0xc000, 0x7f80, 0xff80, 0x0001, 0x8000, 0x7fc0, 0x4049];
    const file = build({ b: { dtype: 'BF16', shape: [2, 4], data_offsets: [0, 16] } }, u16le(halves));
    const t = readSafetensors(file).tensors.b;
    expect(t.shape).toEqual([2, 4]);
    expect(bitsOf(t.data)).toEqual(halves.map((h) => (h << 16) >>> 0));
    expect(t.data[0]).toBe(1);
    expect(t.data[1]).toBe(-2);
    expect(t.data[7]).toBe(3.140625);
  });

  it('converts F64 with float32 rounding', () => {
    const values = [1.5, -0, 0.1, 1e-50, 1e40, -1e40, NaN, 123456789.123];
    const file = build({ d: { dtype: 'F64', shape: [values.length], data_offsets: [0, 8 * values.length] } }, f64le(values));
    const data = readSafetensors(file).tensors.d.data;
    values.forEach((v, i) => expect(Object.is(data[i], Math.fround(v))).toBe(true));
  });

  it('reads tensors at unaligned offsets in a mixed-dtype file', () => {
    const back = readSafetensors(mixedFile());
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors.h).toEqual({ shape: [3], data: new Float32Array([1, -2, 2 ** -24]) });
    expect(back.tensors.w).toEqual({ shape: [2], data: new Float32Array([0.5, -3]) });
    expect(back.tensors.b).toEqual({ shape: [1], data: new Float32Array([1]) });
    expect(back.tensors.d).toEqual({ shape: [1, 1], data: new Float32Array([2.25]) });
    // same file, starting at an odd byte offset of a larger buffer
    const file = mixedFile();
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    expect(readSafetensors(shifted.subarray(3))).toEqual(back);
  });
});

describe('corrupt files', () => {
  const f32 = (shape: number[], offsets: unknown) => ({ dtype: 'F32', shape, data_offsets: offsets });

  it('throws FormatError at every truncation point of a valid file', () => {
    for (const file of [mixedFile(), writeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } }, { k: 'v' })]) {
      for (let len = 0; len < file.length; len++) expectFormatError(() => readSafetensors(file.subarray(0, len)));
      expect(() => readSafetensors(file)).not.toThrow();
    }
    expectFormatError(() => readSafetensors(new Uint8Array(5)), /too short/);
  });

  it('rejects a bad header length', () => {
    const ok = writeSafetensors({ a: { shape: [1], data: new Float32Array([1]) } });
    expectFormatError(() => readSafetensors(build({}, [], 1n << 40n)), /absurd/);
    expectFormatError(() => readSafetensors(build({}, [], 200_000_000n)), /absurd/);
    expectFormatError(() => readSafetensors(build({}, [], 0xffffffffffffffffn)), /absurd/);
    const tooLong = ok.slice();
    new DataView(tooLong.buffer).setUint32(0, ok.length, true);
    expectFormatError(() => readSafetensors(tooLong), /truncated/);
  });

  it('rejects a header that is not valid UTF-8 JSON', () => {
    expectFormatError(() => readSafetensors(build('{"a": ')), /not valid UTF-8 JSON/);
    expectFormatError(() => readSafetensors(build('')), /not valid UTF-8 JSON/);
    expectFormatError(() => readSafetensors(build('\uFEFF{}')), /not valid UTF-8 JSON/);
    const badUtf8 = build('{"\u00e9": 1}');
    badUtf8[10] = 0xff; // break the two-byte sequence of é
    expectFormatError(() => readSafetensors(badUtf8), /not valid UTF-8 JSON/);
  });

  it('rejects a header that is not an object', () => {
    for (const h of ['[]', '42', '"s"', 'null', 'true']) {
      expectFormatError(() => readSafetensors(build(h)), /header must be a JSON object/);
    }
  });

  it('rejects bad __metadata__', () => {
    expectFormatError(() => readSafetensors(build({ __metadata__: { a: 1 } })), /__metadata__ value for key 'a'/);
    expectFormatError(() => readSafetensors(build({ __metadata__: { a: null } })), /__metadata__/);
    expectFormatError(() => readSafetensors(build({ __metadata__: ['x'] })), /__metadata__/);
    expectFormatError(() => readSafetensors(build({ __metadata__: null })), /__metadata__/);
    expectFormatError(() => readSafetensors(build({ __metadata__: 'x' })), /__metadata__/);
  });

  it('rejects unsupported dtypes, naming the dtype and the tensor', () => {
    for (const dtype of ['I64', 'U8', 'BOOL', 'F8_E4M3', 'f32', '']) {
      const file = build({ x: { dtype, shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
      expectFormatError(
        () => readSafetensors(file),
        new RegExp(`unsupported dtype ${dtype} for tensor 'x' \\(supported: F32, F16, BF16, F64\\)`),
      );
    }
    expectFormatError(() => readSafetensors(build({ x: { dtype: 4, shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0])), /dtype of tensor 'x' must be a string/);
  });

  it('rejects malformed entries', () => {
    const d4 = [0, 0, 0, 0];
    expectFormatError(() => readSafetensors(build({ x: [1] }, d4)), /entry for tensor 'x' must be an object/);
    expectFormatError(() => readSafetensors(build({ x: null }, d4)), /tensor 'x'/);
    expectFormatError(() => readSafetensors(build({ x: { ...f32([1], [0, 4]), extra: 1 } }, d4)), /unknown key 'extra'.*tensor 'x'/);
    expectFormatError(() => readSafetensors(build({ x: { dtype: 'F32', shape: [1] } }, d4)), /missing 'data_offsets'/);
    for (const shape of [[-1], [1.5], ['1'], [null], [2 ** 53], 'abc', 1]) {
      expectFormatError(() => readSafetensors(build({ x: { dtype: 'F32', shape, data_offsets: [0, 4] } }, d4)), /shape of tensor 'x'/);
    }
    expectFormatError(() => readSafetensors(build({ x: f32([2 ** 30, 2 ** 30, 2 ** 30], [0, 4]) }, d4)), /too many elements/);
  });

  it('rejects offsets out of range or malformed', () => {
    const d4 = [0, 0, 0, 0];
    for (const offsets of [[0, 8], [-4, 0], [4, 0], [4, 8]]) {
      expectFormatError(() => readSafetensors(build({ x: f32([1], offsets) }, d4)), /of tensor 'x' are out of range/);
    }
    expectFormatError(() => readSafetensors(build({ x: f32([2], [0, 8]) }, d4)), /data_offsets \[0, 8\] of tensor 'x' are out of range/);
    for (const offsets of [[0], [0, 4, 4], [0.5, 4], ['0', '4'], [0, 1e300], null, {}]) {
      expectFormatError(() => readSafetensors(build({ x: f32([1], offsets) }, d4)), /data_offsets of tensor 'x' must be two integers/);
    }
  });

  it('rejects a byte span that does not match the shape', () => {
    expectFormatError(() => readSafetensors(build({ x: f32([2], [0, 4]) }, [0, 0, 0, 0])), /tensor 'x' spans 4 bytes but shape \[2\] of F32 needs 8/);
    expectFormatError(() => readSafetensors(build({ x: { dtype: 'F16', shape: [], data_offsets: [0, 4] } }, [0, 0, 0, 0])), /needs 2/);
  });

  it('rejects overlapping tensors, holes and trailing bytes', () => {
    const d12 = new Uint8Array(12);
    expectFormatError(() => readSafetensors(build({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, d12)), /tensors 'a' and 'b' overlap/);
    expectFormatError(() => readSafetensors(build({ a: f32([1], [0, 4]), b: f32([1], [0, 4]) }, new Uint8Array(4))), /overlap/);
    expectFormatError(() => readSafetensors(build({ a: f32([1], [0, 4]), b: f32([0], [2, 2]) }, new Uint8Array(4))), /overlap/);
    expectFormatError(() => readSafetensors(build({ a: f32([1], [0, 4]), b: f32([1], [8, 12]) }, d12)), /hole.*bytes 4\.\.8.*tensor 'b'/);
    expectFormatError(() => readSafetensors(build({ a: f32([1], [4, 8]) }, new Uint8Array(8))), /hole/);
    expectFormatError(() => readSafetensors(build({ a: f32([1], [0, 4]) }, new Uint8Array(8))), /4 trailing bytes/);
    expectFormatError(() => readSafetensors(build({}, [1])), /1 trailing bytes/);
    // zero-size tensors at the boundaries are fine
    const ok = readSafetensors(build({ e: f32([0], [0, 0]), a: f32([1], [0, 4]), z: f32([0, 5], [4, 4]) }, f32le([9])));
    expect(Object.keys(ok.tensors).sort()).toEqual(['a', 'e', 'z']);
    expect(ok.tensors.a.data[0]).toBe(9);
  });

  it('either parses or throws FormatError under 500 random byte flips', () => {
    const rand = prng(12345);
    const original = mixedFile();
    const headerEnd = 8 + headerLengthOf(original);
    let parsed = 0;
    let rejected = 0;
    for (let iter = 0; iter < 500; iter++) {
      const file = original.slice();
      const flips = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < flips; k++) {
        // bias towards the header, where the interesting structure is
        const span = rand() < 0.7 ? headerEnd : file.length;
        file[Math.floor(rand() * span)] ^= 1 + Math.floor(rand() * 255);
      }
      let result: ReturnType<typeof readSafetensors> | undefined;
      try {
        result = readSafetensors(file);
      } catch (err) {
        if (!(err instanceof FormatError)) expect.fail(`iteration ${iter}: threw ${String(err)}`);
        rejected++;
        continue;
      }
      parsed++;
      for (const t of Object.values(result.tensors)) {
        expect(t.data).toBeInstanceOf(Float32Array);
        expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
      }
    }
    expect(parsed + rejected).toBe(500);
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('writeSafetensors input validation', () => {
  it('rejects bad tensors and metadata', () => {
    const data = new Float32Array(4);
    expectFormatError(() => writeSafetensors({ x: { shape: [3], data } }), /tensor 'x' has 4 values but shape \[3\] needs 3/);
    expectFormatError(() => writeSafetensors({ x: { shape: [2, 2.5], data } }), /shape of tensor 'x'/);
    expectFormatError(() => writeSafetensors({ x: { shape: [-4], data } }), /shape of tensor 'x'/);
    expectFormatError(() => writeSafetensors({ x: { shape: [4], data: [0, 0, 0, 0] as unknown as Float32Array } }), /Float32Array/);
    expectFormatError(() => writeSafetensors({ x: { shape: [4], data: new Float64Array(4) as unknown as Float32Array } }), /Float32Array/);
    expectFormatError(() => writeSafetensors({ x: null as unknown as Tensor32 }), /tensor 'x'/);
    expectFormatError(() => writeSafetensors({ __metadata__: { shape: [4], data } }), /reserved/);
    expectFormatError(() => writeSafetensors({}, { a: 1 as unknown as string }), /__metadata__ value for key 'a'/);
    expectFormatError(() => writeSafetensors({}, null as unknown as Record<string, string>), /__metadata__/);
  });
});
