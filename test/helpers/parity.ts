// The PyTorch parity fixtures (test/fixtures/parity, written by gen_parity.py): their JSON shape
// and the layer each describes. No Node imports, so browser tests use it too.
import { GRU, LSTM, RNN, type Recurrent } from '../../src/index.js';

export interface T { shape: number[]; data: number[] }
export interface Fixture {
  name: string; kind: 'RNN' | 'LSTM' | 'GRU';
  config: { inputSize: number; hiddenSize: number; numLayers: number; bias: boolean; batchFirst: boolean;
    bidirectional: boolean; projSize?: number; nonlinearity?: 'tanh' | 'relu' };
  input: T; h0: T | null; c0: T | null; params: Record<string, T>;
  output: T; hN: T; cN: T | null; dOutput: T; dhN: T; dcN: T | null;
  grads: { dInput: T; dh0: T; dc0: T | null; params: Record<string, T> };
}

/** A fresh layer with the fixture's configuration (its weights not loaded yet). */
export function buildLayer(f: Fixture): Recurrent {
  const { projSize, nonlinearity, ...common } = f.config;
  if (f.kind === 'LSTM') return new LSTM({ ...common, projSize });
  if (f.kind === 'GRU') return new GRU(common);
  return new RNN({ ...common, nonlinearity });
}
