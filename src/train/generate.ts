// Sampling from a language model: the prefix goes through once, then one token at a time,
// carrying the recurrent state (stateful mode) — the prefix is never fed again.
// The model maps token ids (T, B) to logits (T, B, V): e.g. Embedding → LSTM → Linear.
// Per token, the recurrent layers advance with step() (one WASM call per layer, nothing
// allocated or saved for backward: the same kernel as a forward of one step, so the same bits);
// the other modules run their forward on the one row.
import { ShapeError } from '../errors.js';
import { RecurrentModule, type Sequential } from '../nn/sequential.js';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';

export interface SampleOptions {
  /** Softmax temperature; 0 picks the most likely token (greedy). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 = all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = all). */
  topP?: number;
}
export interface GenerateOptions extends SampleOptions { steps: number; seed?: number }

/**
 * Draw a token id from logits (V) with temperature, top-k and top-p (nucleus) filtering.
 * Throws on an empty row, a NaN or +∞ logit, or a row with no finite logit (a model that
 * produced them has diverged; no token would be a meaningful draw). −∞ means "never".
 */
export function sampleLogits(logits: ArrayLike<number>, o: SampleOptions, rng: Rng): number {
  const { temp, topK, topP } = sampleOptions(o), V = logits.length;
  if (V === 0) throw new ShapeError('sampleLogits: no logits to sample from');
  let best = 0;
  for (let i = 0; i < V; i++) {
    const v = logits[i];
    if (Number.isNaN(v) || v === Infinity) throw new ShapeError(`sampleLogits: logit ${i} is ${v}`);
    if (v > logits[best]) best = i;
  }
  const max = logits[best];
  if (max === -Infinity) throw new ShapeError('sampleLogits: every logit is -Infinity');
  if (temp === 0) return best;
  const weight = (i: number) => Math.exp((logits[i] - max) / temp);
  if (topK === 0 && topP === 1) {
    // Nothing filtered: draw in index order, no ranking (a sort per token cost more than the step).
    return draw(Array.from({ length: V }, (_, i) => weight(i)), null, best, rng);
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
  const p = order.slice(0, topK > 0 ? Math.min(topK, V) : V).map(weight);
  const total = p.reduce((a, b) => a + b, 0);
  let n = 0, acc = 0;
  while (n < p.length) { acc += p[n++] / total; if (acc >= topP) break; }
  const kept = acc > 0 ? p.slice(0, n) : p;
  return draw(kept, order, order[kept.length - 1], rng);
}

/** The sampling options with their defaults, or a ShapeError naming the bad one. */
function sampleOptions(o: SampleOptions): { temp: number; topK: number; topP: number } {
  if (!o || typeof o !== 'object') throw new ShapeError('sampling options must be an object ({ temperature, topK, topP })');
  const temp = o.temperature ?? 1, topK = o.topK ?? 0, topP = o.topP ?? 1;
  if (!(temp >= 0 && temp < Infinity)) throw new ShapeError(`temperature must be a finite number ≥ 0, got ${temp}`);
  if (!Number.isInteger(topK) || topK < 0) throw new ShapeError(`topK must be an integer ≥ 0, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new ShapeError(`topP must be in (0, 1], got ${topP}`);
  return { temp, topK, topP };
}

/**
 * Index i (or ids[i]) with probability w[i] / Σw: one uniform draw walked down the weights in
 * their order; `last` when rounding leaves the draw past the end.
 */
function draw(w: readonly number[], ids: readonly number[] | null, last: number, rng: Rng): number {
  let u = rng.next() * w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < w.length; i++) { u -= w[i]; if (u < 0) return ids ? ids[i] : i; }
  return last;
}

/**
 * Continue `prefix` (token ids) by `steps` sampled tokens; returns the new tokens. Everything is
 * checked before the model is touched, and the model is left as it was found: its mode, its
 * carried states (stateful mode) and its layers' step() states.
 */
export function generate(model: Sequential, prefix: ArrayLike<number>, o: GenerateOptions): number[] {
  if (!model || !Array.isArray(model.modules)) throw new ShapeError('generate: the model must be a Sequential (token ids → logits)');
  if (!o || typeof o !== 'object') throw new ShapeError('generate: options { steps, … } required');
  if (!prefix?.length) throw new ShapeError('generate: the prefix needs at least one token');
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new ShapeError(`generate: steps must be an integer ≥ 0, got ${o.steps}`);
  try { sampleOptions(o); } catch (err) { throw new ShapeError(`generate: ${(err as Error).message}`); }
  if (o.seed !== undefined && !Number.isFinite(o.seed)) throw new ShapeError(`generate: seed must be a finite number, got ${o.seed}`);
  const rng = new Rng(o.seed ?? 0);
  const wasTraining = model.training, carried = model.saveState();
  const recurrent = model.modules.filter((m): m is RecurrentModule => m instanceof RecurrentModule);
  const flags = recurrent.map((m) => m.stateful), sessions = recurrent.map((m) => m.layer.streamState());
  model.stateful = true;
  model.resetState();
  model.eval();
  try {
    let logits = model.forward(new Tensor(Float32Array.from(prefix), [prefix.length, 1]));
    // step() needs unidirectional layers (a bidirectional one would need the future).
    const streamed = model.modules.every((m) => !(m instanceof RecurrentModule) || !m.layer.config.bidirectional);
    if (streamed) {
      for (const m of model.modules) if (m instanceof RecurrentModule) m.layer.resetState(1, m.carried);
    }
    const ctx = { training: false };
    // One output row per recurrent layer, reused every token (step() writes into it).
    const rows = new Map(model.modules.filter((m): m is RecurrentModule => m instanceof RecurrentModule)
      .map((m) => [m, new Float32Array(m.layer.outputSize * m.layer.numDirections)]));
    const out: number[] = [];
    for (let s = 0; s < o.steps; s++) {
      const V = logits.shape[logits.shape.length - 1];
      const last = logits.data.subarray(logits.size - V);
      const tok = sampleLogits(last, o, rng);
      out.push(tok);
      if (s + 1 === o.steps) break;
      let x = new Tensor(new Float32Array([tok]), [1, 1]);
      if (!streamed) { logits = model.forward(x); continue; }
      for (const m of model.modules) {
        if (m instanceof RecurrentModule) { const y = m.layer.step(x.data, rows.get(m)); x = new Tensor(y, [1, 1, y.length]); }
        else x = m.forward(x, ctx);
      }
      logits = x;
    }
    return out;
  } finally {
    model.restoreState(carried);
    model.train(wasTraining);
    recurrent.forEach((m, i) => { m.stateful = flags[i]; m.layer.restoreStreamState(sessions[i]); });
  }
}
