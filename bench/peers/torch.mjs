// PyTorch (CPU, one thread) through /usr/bin/python3, when `import torch` works there; skipped
// with a note otherwise. Node writes the shared weights and inputs as raw float32 files plus a
// JSON spec into a temporary directory; bench/peers/torch_bench.py loads them and, in a first
// run, writes its outputs back for the check; a second run times the runs itself with
// time.perf_counter() (the same warm-up / runs / min-time protocol) and prints them as JSON. Python's per-call overhead is part of
// what is measured, as the JS libraries' is on their side.
//   inference:  with torch.inference_mode(): y, _ = lstm(torch.from_numpy(x)); y.numpy()
//   training:   zero_grad, LSTM → Linear → F.cross_entropy (mean), backward, Adam.step()
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_RUNS, summarize } from '../lib/common.mjs';

const PYTHON = process.env.WASM_RNN_BENCH_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_bench.py');
// One thread everywhere: torch.set_num_threads(1) in the script, and the BLAS / OpenMP pools.
const ENV = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

const raw = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export default {
  name: 'pytorch',
  detail: 'CPU, 1 thread',
  version: null,

  load() {
    const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { env: ENV, encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
      return { ok: false, reason: `\`import torch\` fails in ${PYTHON} (${why}); e.g. apt-get install -y python3-torch libopenblas0-openmp` };
    }
    this.version = probe.stdout.trim();
    // Debian's python3-torch reports 1.13.0a0 for its 1.13.1 package: name the package too.
    const deb = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'python3-torch'], { encoding: 'utf8' });
    this.package = deb.status === 0 && deb.stdout ? `Debian python3-torch ${deb.stdout.trim()}` : null;
    return { ok: true };
  },

  // Python runs per workload: 'check' (from output()) writes the outputs, compared before any
  // timing; 'time' (from time(), once per round) times the runs. All load the same files.
  setup(w, s) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wasm-rnn-bench-torch-'));
    const arrays = { ...s.params, x: s.x };
    if (w.task === 'train') Object.assign(arrays, { 'linear.weight': s.linear.weight, 'linear.bias': s.linear.bias, targets: s.targets });
    for (const [name, a] of Object.entries(arrays)) writeFileSync(path.join(dir, `${name}.bin`), raw(a));
    const python = (phase, timing = null) => {
      const spec = path.join(dir, `${phase}.json`);
      writeFileSync(spec, JSON.stringify({ dir, phase, workload: w, timing: timing && { ...timing, maxRuns: MAX_RUNS } }));
      return JSON.parse(execFileSync(PYTHON, [SCRIPT, spec], {
        env: ENV, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'],
      }));
    };
    const f32 = (name) => {
      const b = readFileSync(path.join(dir, `${name}.bin`));
      return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
    };

    return {
      output: () => {
        const info = python('check');
        this.detail = `CPU, 1 thread, ${info.blas}${this.package ? `, ${this.package}` : ''}, Python ${info.python}`;
        return w.task === 'train'
          ? {
              losses: JSON.parse(readFileSync(path.join(dir, 'out_losses.json'), 'utf8')),
              grads: Object.fromEntries([...Object.keys(s.params), 'linear.weight', 'linear.bias'].map((k) => [k, f32(`grad_${k}`)])),
            }
          : { y: f32('out_y') };
      },
      time: (timing) => summarize(python('time', timing).times),
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};
