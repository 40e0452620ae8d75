// PyTorch parity: every fixture in test/fixtures/parity was produced by gen_parity.py from
// torch.nn.RNN / LSTM / GRU in float64 (see test/fixtures/README.md). We load its state_dict,
// run forward and backward, and require every output, state and gradient within 1e-4.
import { beforeAll, describe, expect, it } from 'vitest';
import { engine, fixtureNames, loadFixture, maxAbsDiff } from './helpers/engine.js';
import { buildLayer as build, type Fixture, type T } from './helpers/parity.js';

const TOL = 1e-4;

beforeAll(async () => { await engine(); });

describe('PyTorch parity', () => {
  for (const file of fixtureNames('parity')) {
    it(file.replace('.json', ''), () => {
      const f = loadFixture<Fixture>('parity', file);
      const m = build(f);
      m.loadStateDict(f.params);
      const errs: Record<string, number> = {};
      const check = (what: string, got: { shape: readonly number[]; data: Float32Array } | undefined, want: T | null) => {
        if (!want) return;
        expect(got, what).toBeDefined();
        expect([...got!.shape], `${what} shape`).toEqual(want.shape);
        errs[what] = maxAbsDiff(got!.data, want.data);
      };
      const state = { ...(f.h0 ? { h0: f.h0 } : {}), ...(f.c0 ? { c0: f.c0 } : {}) };
      const fw = m.forward(f.input, state);
      check('output', fw.output, f.output);
      check('hN', fw.hN, f.hN);
      check('cN', fw.cN, f.cN);
      const bw = m.backward({ dOutput: f.dOutput, dhN: f.dhN, ...(f.dcN ? { dcN: f.dcN } : {}) });
      check('dInput', bw.dInput, f.grads.dInput);
      check('dh0', bw.dh0, f.grads.dh0);
      check('dc0', bw.dc0, f.grads.dc0);
      const g = m.gradients();
      expect(Object.keys(g).sort()).toEqual(Object.keys(f.grads.params).sort());
      for (const [n, want] of Object.entries(f.grads.params)) check(`d ${n}`, g[n], want);
      const worst = Math.max(...Object.values(errs));
      console.log(`${f.name}: max abs error ${worst.toExponential(2)} (${Object.keys(errs).length} tensors)`);
      for (const [what, e] of Object.entries(errs)) expect(e, `${f.name}: ${what}`).toBeLessThan(TOL);
      m.dispose();
    });
  }
});
