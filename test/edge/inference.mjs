// The inference smoke test every edge runtime runs (Deno, Bun, a workerd module worker): load
// the checkpoint in fixtures/, run the whole sequence forward, then replay sequence 0 one
// step at a time with the streaming API (LSTM.resetState / step), and compare both to the
// logits Node computed (fixtures/expected.json, written by scripts/make-edge-fixture.mjs).
// Imports the built package (dist/), as a consumer would.
import { Tensor, hasRelaxedSimd, loadCheckpoint } from '../../dist/index.js';

function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d; }
  return m;
}

/** @returns {{ relaxedSimd: boolean, forwardError: number, stepError: number, steps: number }} */
export function checkInference(modelBytes, expected) {
  const { T, B, V, tokens, logits } = expected;
  const { model } = loadCheckpoint(modelBytes);
  model.eval();
  try {
    const out = model.forward(new Tensor(Float32Array.from(tokens), [T, B]));
    const forwardError = maxAbsDiff(out.data, logits);
    // Sequence 0, one token at a time: Embedding row → LSTM.step → Linear.
    const [embedding, lstm, linear] = model.layers;
    lstm.resetState(1);
    let stepError = 0;
    for (let t = 0; t < T; t++) {
      const x = embedding.forward(new Tensor(new Float32Array([tokens[t * B]]), [1, 1]), { training: false }).data;
      const h = lstm.step(x);
      const y = linear.forward(new Tensor(h, [1, h.length])).data;
      stepError = Math.max(stepError, maxAbsDiff(y, logits.slice((t * B) * V, (t * B + 1) * V)));
    }
    return { relaxedSimd: hasRelaxedSimd(), forwardError, stepError, steps: T };
  } finally {
    model.dispose();
  }
}
