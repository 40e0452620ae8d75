// Trains a character-level LSTM in the page and plots its loss as it goes. Plain ES modules,
// no bundler: index.html maps `wasm-rnn` to the package's dist/index.js, and init() with no
// argument fetches the .wasm build next to it (relaxed SIMD where the browser has it).
import {
  Adam, CrossEntropyLoss, Embedding, LSTM, Linear, Sequential, Tensor,
  charVocab, clipGradNorm, defaultBuild, forgetBias, grammarText, init,
} from 'wasm-rnn';

const $ = (id) => document.getElementById(id);
const B = 16;       // parallel streams
const T = 32;       // steps per update (truncated BPTT)
const E = 16;       // embedding size
const FRAME_MS = 40; // training time per animation frame

const text = grammarText(4000, 7);
const { chars, ids } = charVocab(text);
const V = chars.length;
const tokens = Array.from(text, (c) => ids.get(c));
const rowLen = Math.floor((tokens.length - 1) / B);

let model, lstm, optimizer, loss, chunk, losses, started, running = true, rngState = 1;

function build(hidden) {
  model?.dispose();
  optimizer?.dispose();
  lstm = new LSTM({ inputSize: E, hiddenSize: hidden, seed: 2 });
  forgetBias(lstm, 1);
  model = new Sequential([new Embedding({ numEmbeddings: V, embeddingDim: E, seed: 1 }), lstm, new Linear({ inFeatures: hidden, outFeatures: V, seed: 3 })]);
  model.stateful = true; // carry the LSTM state from chunk to chunk (values only)
  optimizer = new Adam(model, { lr: 5e-3 });
  loss = new CrossEntropyLoss();
  chunk = 0;
  losses = [];
  started = performance.now();
}

/** Time-major (T, B) token ids: stream b reads tokens[b·rowLen + start + offset …]. */
function batch(start, offset) {
  const d = new Float32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) d[t * B + b] = tokens[b * rowLen + start + t + offset];
  return new Tensor(d, [T, B]);
}

function update() {
  if ((chunk + 1) * T > rowLen) { chunk = 0; model.resetState(); } // next epoch
  const start = chunk++ * T;
  model.zeroGrad();
  const l = loss.forward(model.forward(batch(start, 0), { training: true }), batch(start, 1));
  model.backward(loss.backward());
  clipGradNorm(model.parameters(), 1);
  optimizer.step();
  losses.push(l / Math.LN2); // bits per character
}

function random() {
  rngState = (Math.imul(rngState, 1664525) + 1013904223) >>> 0;
  return rngState / 4294967296;
}

/** Sample with the streaming API: one LSTM.step per character from the carried state. */
function sample(prime = 'the ', n = 160, temperature = 0.6) {
  const [embedding, , linear] = model.layers;
  const table = embedding.stateDict().weight.data;
  lstm.resetState(1);
  let logits, out = prime, id = 0;
  const feed = (i) => linear.forward(new Tensor(lstm.step(table.subarray(i * E, (i + 1) * E)), [1, lstm.config.hiddenSize])).data;
  for (const c of prime) logits = feed(ids.get(c));
  for (let k = 0; k < n; k++) {
    const max = Math.max(...logits);
    const p = Array.from(logits, (v) => Math.exp((v - max) / temperature));
    let u = random() * p.reduce((a, b) => a + b, 0);
    for (id = 0; id < V - 1 && (u -= p[id]) >= 0; id++);
    out += chars[id];
    logits = feed(id);
  }
  return out;
}

function draw() {
  const cv = $('plot'), g = cv.getContext('2d'), W = cv.width, H = cv.height;
  const L = { left: 110, right: 30, top: 30, bottom: 90 };
  const pw = W - L.left - L.right, ph = H - L.top - L.bottom;
  const yMax = Math.ceil(Math.log2(V)), n = Math.max(losses.length, 50);
  const x = (i) => L.left + (i / (n - 1)) * pw, y = (v) => L.top + ph * (1 - Math.min(v, yMax) / yMax);
  g.clearRect(0, 0, W, H);
  g.font = '26px system-ui, sans-serif';
  g.strokeStyle = '#e5e5e5'; g.fillStyle = '#555'; g.lineWidth = 2;
  for (let v = 0; v <= yMax; v++) {
    g.beginPath(); g.moveTo(L.left, y(v)); g.lineTo(W - L.right, y(v)); g.stroke();
    g.textAlign = 'right'; g.fillText(String(v), L.left - 14, y(v) + 9);
  }
  const step = Math.max(10, 10 ** Math.floor(Math.log10(n / 2)));
  g.textAlign = 'center';
  for (let i = 0; i < n; i += step) g.fillText(String(i), x(i), H - L.bottom + 38);
  g.fillText('update', L.left + pw / 2, H - 18);
  g.save(); g.translate(32, L.top + ph / 2); g.rotate(-Math.PI / 2); g.fillText('bits per character', 0, 0); g.restore();
  // Uniform guess over the vocabulary, for scale.
  g.setLineDash([12, 10]); g.strokeStyle = '#999';
  g.beginPath(); g.moveTo(L.left, y(Math.log2(V))); g.lineTo(W - L.right, y(Math.log2(V))); g.stroke(); g.setLineDash([]);
  g.textAlign = 'right'; g.fillText(`uniform guess over ${V} characters`, W - L.right - 10, y(Math.log2(V)) - 12);
  g.fillStyle = '#9ec5e8'; g.fillText('each update', W - L.right - 10, y(yMax * 0.62));
  g.fillStyle = '#1f77b4'; g.fillText('smoothed', W - L.right - 10, y(yMax * 0.62) + 34);
  if (!losses.length) return;
  g.strokeStyle = '#9ec5e8'; g.lineWidth = 2; g.beginPath();
  losses.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v)))); g.stroke();
  g.strokeStyle = '#1f77b4'; g.lineWidth = 5; g.beginPath();
  let ema = losses[0];
  losses.forEach((v, i) => { ema = 0.9 * ema + 0.1 * v; if (i) g.lineTo(x(i), y(ema)); else g.moveTo(x(i), y(ema)); }); g.stroke();
}

function report(buildName) {
  const last = losses.slice(-20), mean = last.reduce((a, b) => a + b, 0) / Math.max(last.length, 1);
  const secs = (performance.now() - started) / 1000;
  $('status').textContent = `update ${losses.length} · ${mean.toFixed(3)} bits/char · ${Math.round((losses.length * T * B) / secs)} chars/s · ${buildName}`;
  Object.assign(document.body.dataset, { steps: String(losses.length), lossFirst: String(losses[0]), lossLast: String(mean) });
}

function fail(err) {
  running = false;
  $('status').textContent = `error: ${err.message}`;
  $('status').className = 'err';
  document.body.dataset.error = String(err.message);
  console.error(err);
}

try {
  await init();
  const buildName = defaultBuild().pathname.split('/').pop();
  document.body.dataset.build = buildName;
  build(Number($('hidden').value));
  $('toggle').disabled = false;
  $('toggle').onclick = () => { running = !running; $('toggle').textContent = running ? 'Pause' : 'Resume'; if (running) requestAnimationFrame(frame); };
  let lastSample = 0;
  $('hidden').onchange = () => { build(Number($('hidden').value)); lastSample = 0; $('sample').textContent = ''; draw(); };
  const frame = () => {
    if (!running) return;
    try {
      const until = performance.now() + FRAME_MS;
      do update(); while (performance.now() < until);
      if (losses.length - lastSample >= 40) { lastSample = losses.length; $('sample').textContent = sample(); }
      draw();
      report(buildName);
      requestAnimationFrame(frame);
    } catch (err) { fail(err); }
  };
  draw();
  requestAnimationFrame(frame);
} catch (err) {
  fail(err);
}
