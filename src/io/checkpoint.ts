// Checkpoints: a whole model (architecture + weights) and optionally its optimizer state, in
// one .safetensors file. Weights are F32 tensors under their state_dict names (a Sequential's
// as `<index>.<name>`), optimizer buffers under `optimizer.<key>`; the architecture and the
// optimizer's kind, step and options are JSON in the header metadata. A round trip is
// bit-exact.
import type { Engine } from '../engine/engine.js';
import { FormatError } from '../errors.js';
import { Embedding } from '../nn/embedding.js';
import { SequenceHead } from '../nn/heads.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { GRU, LSTM, RNN, Recurrent } from '../nn/recurrent.js';
import { RecurrentModule, Sequential } from '../nn/sequential.js';
import type { Optimizer, OptimizerStateDict } from '../train/optim.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

export const FORMAT = 'wasm-rnn/1';

type LayerSpec = { type: string; options: Record<string, unknown> };
type ModelSpec = { type: 'Sequential'; layers: LayerSpec[] } | LayerSpec;

function layerSpec(m: Module | Recurrent): LayerSpec {
  const l = m instanceof RecurrentModule ? m.layer : m;
  if (l instanceof Recurrent) {
    const { kind, projSize, nonlinearity, ...options } = l.config;
    return { type: kind, options: { ...options, ...(kind === 'LSTM' ? { projSize } : {}), ...(kind === 'RNN' ? { nonlinearity } : {}) } };
  }
  if (l instanceof Linear) return { type: 'Linear', options: { inFeatures: l.inFeatures, outFeatures: l.outFeatures, bias: l.bias, activation: l.activation } };
  if (l instanceof Embedding) return { type: 'Embedding', options: { numEmbeddings: l.numEmbeddings, embeddingDim: l.embeddingDim } };
  if (l instanceof SequenceHead) return { type: 'SequenceHead', options: { mode: l.mode, bidirectional: l.bidirectional } };
  throw new FormatError(`checkpoint: cannot describe a layer of type ${l?.constructor?.name ?? typeof l}`);
}

function buildLayer(s: LayerSpec, engine?: Engine): Module | Recurrent {
  const o = { ...s.options, ...(engine ? { engine } : {}) } as never;
  switch (s.type) {
    case 'LSTM': return new LSTM(o);
    case 'GRU': return new GRU(o);
    case 'RNN': return new RNN(o);
    case 'Linear': return new Linear(o);
    case 'Embedding': return new Embedding(o);
    case 'SequenceHead': return new SequenceHead(o);
    default: throw new FormatError(`checkpoint: unknown layer type '${s.type}'`);
  }
}

/** Serialize a model (a Sequential or one recurrent layer) and optionally its optimizer. */
export function saveCheckpoint(model: Sequential | Recurrent, opts: { optimizer?: Optimizer; metadata?: Record<string, string> } = {}): Uint8Array {
  const spec: ModelSpec = model instanceof Sequential ? { type: 'Sequential', layers: model.modules.map(layerSpec) } : layerSpec(model);
  const tensors: Record<string, { shape: readonly number[]; data: Float32Array }> = { ...model.stateDict() };
  const meta: Record<string, string> = { ...opts.metadata, format: FORMAT, model: JSON.stringify(spec) };
  if (opts.optimizer) {
    const sd = opts.optimizer.stateDict();
    for (const [k, v] of Object.entries(sd.buffers)) tensors[`optimizer.${k}`] = { shape: [v.length], data: v };
    meta.optimizer = JSON.stringify({ kind: opts.optimizer.kind, step: sd.step, options: sd.options });
  }
  return writeSafetensors(tensors, meta);
}

export interface Checkpoint {
  model: Sequential | Recurrent;
  /** The optimizer's state, for `optimizer.loadStateDict(...)` on a new optimizer of `optimizerKind`. */
  optimizer?: OptimizerStateDict;
  optimizerKind?: string;
  metadata: Record<string, string>;
}

/** Rebuild a model from a checkpoint; everything is validated before the model is returned. */
export function loadCheckpoint(bytes: Uint8Array | ArrayBuffer, opts: { engine?: Engine } = {}): Checkpoint {
  const file = readSafetensors(bytes);
  const meta = file.metadata;
  if (meta.format !== FORMAT) {
    throw new FormatError(`checkpoint: format '${meta.format ?? '(none)'}' is not ${FORMAT}` +
      (meta.format?.startsWith('wasm-rnn/') ? ' (written by another version of wasm-rnn)' : ' (not a wasm-rnn checkpoint)'));
  }
  if (meta.model === undefined) {
    throw new FormatError('checkpoint: the file has no model description, so it is not a wasm-rnn checkpoint ' +
      '(weights alone, e.g. from saveSafetensors(), load into a model built by hand with loadSafetensors())');
  }
  const spec = parse<ModelSpec>(meta.model, 'model');
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  const buffers: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(file.tensors)) {
    if (k.startsWith('optimizer.')) buffers[k.slice('optimizer.'.length)] = v.data;
    else weights[k] = v;
  }
  // Everything that can fail on the metadata first, so a failure leaves nothing allocated.
  const optim = meta.optimizer === undefined ? null
    : parse<{ kind: string; step: number; options: Record<string, unknown> }>(meta.optimizer, 'optimizer');
  const built: (Module | Recurrent)[] = [];
  let model: Sequential | Recurrent;
  try {
    if (spec.type === 'Sequential') {
      const layers = (spec as { layers?: unknown }).layers;
      if (!Array.isArray(layers)) throw new FormatError('checkpoint: Sequential without layers');
      for (const l of layers as LayerSpec[]) built.push(buildLayer(l, opts.engine));
      model = new Sequential(built);
    } else {
      const l = buildLayer(spec as LayerSpec, opts.engine);
      built.push(l);
      if (!(l instanceof Recurrent)) throw new FormatError(`checkpoint: a single ${spec.type} is not a model`);
      model = l;
    }
    model.loadStateDict(weights);
  } catch (err) {
    for (const l of built) l.dispose();
    if (err instanceof FormatError) throw err;
    throw new FormatError(`checkpoint: does not describe a valid model (${(err as Error).message})`);
  }
  const out: Checkpoint = { model, metadata: meta };
  if (optim) {
    out.optimizerKind = optim.kind;
    out.optimizer = { step: optim.step, options: optim.options, buffers };
  }
  return out;
}

function parse<T>(json: string | undefined, what: string): T {
  if (json === undefined) throw new FormatError(`checkpoint: no '${what}' entry in the metadata`);
  try {
    return JSON.parse(json) as T;
  } catch {
    throw new FormatError(`checkpoint: the '${what}' metadata is not valid JSON`);
  }
}
