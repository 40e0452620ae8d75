// Options, resolved configuration and parameter layout of the recurrent layers: PyTorch's
// names, shapes and state_dict order (weight_ih_l0, weight_hh_l1_reverse, bias_ih_l0, weight_hr_l0…).
import type { Engine } from '../engine/engine.js';
import { ShapeError } from '../errors.js';
import { flag, positiveInt } from '../tensor.js';
import type { ParamSpec } from './params.js';

export type RecurrentKind = 'RNN' | 'LSTM' | 'GRU';

export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  bidirectional?: boolean;
  /** Dropout probability on the outputs of every layer but the last (training mode only). */
  dropout?: number;
  /** Seed of the default initialisation U(-1/√H, 1/√H) and of the dropout masks. */
  seed?: number;
  engine?: Engine;
}
export interface LSTMOptions extends RecurrentOptions { projSize?: number }
export interface RNNOptions extends RecurrentOptions { nonlinearity?: 'tanh' | 'relu' }

export interface RecurrentConfig {
  readonly kind: RecurrentKind;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly bidirectional: boolean;
  readonly dropout: number;
  readonly projSize: number;
  readonly nonlinearity: 'tanh' | 'relu';
}

/** Gate rows per hidden unit. */
export const GATES: Record<RecurrentKind, number> = { RNN: 1, LSTM: 4, GRU: 3 };

export function suffix(l: number, d: number): string {
  return `_l${l}${d ? '_reverse' : ''}`;
}


export function resolveConfig(kind: RecurrentKind, o: RecurrentOptions & Partial<LSTMOptions & RNNOptions>): RecurrentConfig {
  if (!o || typeof o !== 'object') throw new ShapeError(`${kind}: options object required ({ inputSize, hiddenSize, … })`);
  const projSize = o.projSize === undefined ? 0 : positiveInt(o.projSize, `${kind}: projSize`, 0);
  const hiddenSize = positiveInt(o.hiddenSize, `${kind}: hiddenSize`);
  if (projSize && kind !== 'LSTM') throw new ShapeError(`${kind}: projSize is only supported for LSTM`);
  if (projSize >= hiddenSize) throw new ShapeError(`${kind}: projSize (${projSize}) must be smaller than hiddenSize (${hiddenSize})`);
  const dropout = o.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new ShapeError(`${kind}: dropout must be a probability in [0, 1), got ${String(dropout)}`);
  const nl = o.nonlinearity ?? 'tanh';
  if (nl !== 'tanh' && nl !== 'relu') throw new ShapeError(`${kind}: nonlinearity must be 'tanh' or 'relu', got ${String(nl)}`);
  if (o.nonlinearity !== undefined && kind !== 'RNN') throw new ShapeError(`${kind}: nonlinearity is only for RNN`);
  return Object.freeze({
    kind,
    inputSize: positiveInt(o.inputSize, `${kind}: inputSize`),
    hiddenSize,
    numLayers: o.numLayers === undefined ? 1 : positiveInt(o.numLayers, `${kind}: numLayers`),
    bias: flag(o.bias, true, `${kind}: bias`),
    batchFirst: flag(o.batchFirst, false, `${kind}: batchFirst`),
    bidirectional: flag(o.bidirectional, false, `${kind}: bidirectional`),
    dropout,
    projSize,
    nonlinearity: nl,
  });
}

/** Parameter names and shapes in PyTorch's state_dict order. */
export function paramSpecs(c: RecurrentConfig): ParamSpec[] {
  const D = c.bidirectional ? 2 : 1, H = c.hiddenSize, R = c.projSize || H, G = GATES[c.kind] * H;
  const specs: ParamSpec[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    for (let d = 0; d < D; d++) {
      const s = suffix(l, d);
      specs.push({ name: `weight_ih${s}`, shape: [G, l === 0 ? c.inputSize : D * R] });
      specs.push({ name: `weight_hh${s}`, shape: [G, R] });
      if (c.bias) specs.push({ name: `bias_ih${s}`, shape: [G] }, { name: `bias_hh${s}`, shape: [G] });
      if (c.projSize) specs.push({ name: `weight_hr${s}`, shape: [c.projSize, H] });
    }
  }
  return specs;
}
