// A Cloudflare Worker that serves next-character predictions from a character-level LSTM
// (Embedding → LSTM → Linear, trained by `wasm-rnn train --demo`; see README.md here).
//
//   GET /predict?text=the%20ca&k=5          the k most likely next characters after `text`
//   GET /complete?text=the%20&n=60          continue `text` by n characters (greedy; &temperature=0.8&seed=1 to sample)
//
// Stateful stepping: each request resets the LSTM's streaming state, feeds its text one
// character at a time with LSTM.step() (one small kernel call per character, nothing
// recomputed), then keeps stepping from the carried state for each generated character.
//
// Workers may not compile WebAssembly from bytes, so both builds are imported as modules
// (WebAssembly.Module) and the one this runtime supports is handed to init(). The model is
// a data module (ArrayBuffer).
import { Tensor, hasRelaxedSimd, init, loadCheckpoint } from 'wasm-rnn';
import simd from 'wasm-rnn/wasm-rnn.wasm';
import relaxed from 'wasm-rnn/wasm-rnn.relaxed.wasm';
import modelBytes from './model.safetensors';

const MAX_TEXT = 2000;
const MAX_GENERATE = 500;

let ready; // the model, loaded once per isolate

async function load() {
  await init(hasRelaxedSimd() ? relaxed : simd);
  const { model, metadata } = loadCheckpoint(new Uint8Array(modelBytes));
  const [embedding, lstm, linear] = model.layers;
  const vocab = JSON.parse(metadata.vocab);
  const table = embedding.stateDict().weight; // (V, E): row v is character v's input to the LSTM
  return { lstm, linear, vocab, ids: new Map(vocab.map((c, i) => [c, i])), table, E: table.shape[1], H: lstm.config.hiddenSize };
}

/** Advance the LSTM by one character; returns the logits (V) for the next one. */
function step(m, id) {
  const h = m.lstm.step(m.table.data.subarray(id * m.E, (id + 1) * m.E));
  return m.linear.forward(new Tensor(h, [1, m.H])).data;
}

function softmax(logits, temperature = 1) {
  const t = temperature > 0 ? temperature : 1;
  const max = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp((v - max) / t));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** Feed `text` from a fresh state; returns the logits after its last character. */
function prime(m, text) {
  m.lstm.resetState(1);
  let logits = null;
  for (const c of text) logits = step(m, m.ids.get(c));
  return logits;
}

function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const json = (body, status = 200) => Response.json(body, { status, headers: { 'access-control-allow-origin': '*' } });

function readText(m, url) {
  const text = url.searchParams.get('text') ?? '';
  if (!text) return { error: 'give ?text=' };
  if (text.length > MAX_TEXT) return { error: `text is longer than ${MAX_TEXT} characters` };
  const unknown = [...new Set([...text].filter((c) => !m.ids.has(c)))];
  if (unknown.length) return { error: `characters the model never saw: ${JSON.stringify(unknown.join(''))}; it knows ${JSON.stringify(m.vocab.join(''))}` };
  return { text };
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/') {
      return new Response('wasm-rnn character model\n  GET /predict?text=the%20ca&k=5\n  GET /complete?text=the%20&n=60[&temperature=0.8&seed=1]\n');
    }
    const m = await (ready ??= load().catch((err) => { ready = undefined; throw err; }));
    const { text, error } = readText(m, url);
    if (error) return json({ error }, 400);

    if (url.pathname === '/predict') {
      const k = Math.min(Math.max(1, Number(url.searchParams.get('k') ?? 5) | 0), m.vocab.length);
      const p = softmax(prime(m, text));
      const next = p.map((prob, id) => ({ char: m.vocab[id], p: Number(prob.toFixed(4)) })).sort((a, b) => b.p - a.p).slice(0, k);
      return json({ text, next });
    }

    if (url.pathname === '/complete') {
      const n = Math.min(Math.max(1, Number(url.searchParams.get('n') ?? 60) | 0), MAX_GENERATE);
      const temperature = Number(url.searchParams.get('temperature') ?? 0);
      const rand = mulberry32(Number(url.searchParams.get('seed') ?? 1));
      let logits = prime(m, text), out = '';
      for (let i = 0; i < n; i++) {
        let id = 0;
        if (temperature > 0) {
          const p = softmax(logits, temperature);
          for (let u = rand(); id < p.length - 1 && (u -= p[id]) >= 0;) id++;
        } else {
          for (let j = 1; j < logits.length; j++) if (logits[j] > logits[id]) id = j;
        }
        out += m.vocab[id];
        logits = step(m, id); // one step from the carried state
      }
      return json({ text, completion: out, steps: [...text].length + n });
    }
    return json({ error: `no route ${url.pathname}` }, 404);
  },
};
