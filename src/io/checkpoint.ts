// Checkpoints: a whole model (architecture + weights) and optionally its optimizer state, in
// one .safetensors file. Weights are F32 tensors under their state_dict names (a Sequential's
// as `<index>.<name>`), optimizer buffers under `optimizer.<key>`; the architecture and the
// optimizer's kind, step and options are JSON in the header metadata. A round trip is
// bit-exact.
import type { Engine } from '../engine/engine.js';
import { FormatError, NumericError } from '../errors.js';
import { Embedding } from '../nn/embedding.js';
import { SequenceHead } from '../nn/heads.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { GRU, LSTM, RNN, Recurrent } from '../nn/recurrent.js';
import { paramSpecs, resolveConfig } from '../nn/recurrent-config.js';
import type { ParamSpec } from '../nn/params.js';
import { assertFinite, flag, positiveInt } from '../tensor.js';
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

/** The options each layer type is saved with (a file's other keys, an engine above all, are refused). */
const OPTIONS: Record<string, readonly string[]> = {
  LSTM: ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout', 'projSize'],
  GRU: ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout'],
  RNN: ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout', 'nonlinearity'],
  Linear: ['inFeatures', 'outFeatures', 'bias', 'activation'],
  Embedding: ['numEmbeddings', 'embeddingDim'],
  SequenceHead: ['mode', 'bidirectional'],
};

/** A layer description from a file, checked for form: an object with a known type and only that type's options. */
function checkSpec(s: unknown, where: string): LayerSpec {
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw new FormatError(`checkpoint: ${where} is not a layer description`);
  const { type, options } = s as { type?: unknown; options?: unknown };
  if (typeof type !== 'string' || !Object.hasOwn(OPTIONS, type)) {
    throw new FormatError(`checkpoint: ${where} has an unknown layer type '${String(type)}'`);
  }
  if (!options || typeof options !== 'object' || Array.isArray(options)) throw new FormatError(`checkpoint: ${where} (${type}) has no options object`);
  const extra = Object.keys(options).filter((k) => !OPTIONS[type].includes(k));
  if (extra.length) throw new FormatError(`checkpoint: ${where} (${type}) has unknown options: ${extra.join(', ')}`);
  return { type, options: options as Record<string, unknown> };
}

/** The parameters (names, shapes) a form-checked layer description asks for, without building it. */
function specParams(s: LayerSpec): ParamSpec[] {
  const o = s.options;
  switch (s.type) {
    case 'LSTM': case 'GRU': case 'RNN': return paramSpecs(resolveConfig(s.type, o as never));
    case 'Linear': {
      const I = positiveInt(o.inFeatures, 'Linear: inFeatures'), O = positiveInt(o.outFeatures, 'Linear: outFeatures');
      return [{ name: 'weight', shape: [O, I] }, ...(flag(o.bias, true, 'Linear: bias') ? [{ name: 'bias', shape: [O] }] : [])];
    }
    case 'Embedding':
      return [{ name: 'weight', shape: [positiveInt(o.numEmbeddings, 'Embedding: numEmbeddings'), positiveInt(o.embeddingDim, 'Embedding: embeddingDim')] }];
    default: return [];
  }
}

function buildLayer(s: LayerSpec, engine?: Engine): Module | Recurrent {
  const o = { ...s.options, ...(engine ? { engine } : {}) } as never;
  switch (s.type) {
    case 'LSTM': return new LSTM(o);
    case 'GRU': return new GRU(o);
    case 'RNN': return new RNN(o);
    case 'Linear': return new Linear(o);
    case 'Embedding': return new Embedding(o);
    default: return new SequenceHead(o);
  }
}

/** Metadata keys the checkpoint itself writes. */
const RESERVED = ['format', 'model', 'optimizer'];

/** Serialize a model (a Sequential or one recurrent layer) and optionally its optimizer. */
export function saveCheckpoint(model: Sequential | Recurrent, opts: { optimizer?: Optimizer; metadata?: Record<string, string> } = {}): Uint8Array {
  const clash = Object.keys(opts.metadata ?? {}).filter((k) => RESERVED.includes(k));
  if (clash.length) throw new FormatError(`saveCheckpoint: metadata key${clash.length > 1 ? 's' : ''} ${clash.map((k) => `'${k}'`).join(', ')} ${clash.length > 1 ? 'are' : 'is'} the checkpoint's own (${RESERVED.join(', ')})`);
  const spec: ModelSpec = model instanceof Sequential ? { type: 'Sequential', layers: model.modules.map(layerSpec) } : layerSpec(model);
  const tensors: Record<string, { shape: readonly number[]; data: Float32Array }> = { ...model.stateDict() };
  // The loaders refuse non-finite weights: a diverged model is refused here, not after it is written.
  for (const [k, t] of Object.entries(tensors)) assertFinite(t.data, `saveCheckpoint: parameter '${k}'`);
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
  const raw = parse<unknown>(meta.model, 'model');
  const seq = !!raw && typeof raw === 'object' && (raw as { type?: unknown }).type === 'Sequential';
  const layers = seq ? (raw as { layers?: unknown }).layers : [raw];
  if (!Array.isArray(layers) || !layers.length) throw new FormatError('checkpoint: Sequential without layers');
  const specs = layers.map((l, i) => checkSpec(l, seq ? `layer ${i}` : 'the model'));
  if (!seq && !['LSTM', 'GRU', 'RNN'].includes(specs[0].type)) throw new FormatError(`checkpoint: a single ${specs[0].type} is not a model`);
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  const buffers: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(file.tensors)) {
    if (k.startsWith('optimizer.')) buffers[k.slice('optimizer.'.length)] = v.data;
    else weights[k] = v;
  }
  // Everything that can fail on the metadata first, so a failure leaves nothing allocated.
  const optim = meta.optimizer === undefined ? null : checkOptimizer(parse<unknown>(meta.optimizer, 'optimizer'));
  // The tensors the description asks for (names as in the file, shapes) against those the file
  // holds, before anything is built: a small file cannot make the engine allocate a model of
  // any size first.
  let want: ParamSpec[];
  try {
    want = specs.flatMap((s, i) => specParams(s).map((p) => ({ name: seq ? `${i}.${p.name}` : p.name, shape: p.shape })));
  } catch (err) {
    throw new FormatError(`checkpoint: does not describe a valid model (${(err as Error).message})`);
  }
  const missing = want.filter((p) => !Object.hasOwn(weights, p.name)).map((p) => p.name);
  const unexpected = Object.keys(weights).filter((k) => !want.some((p) => p.name === k));
  if (missing.length || unexpected.length) {
    throw new FormatError(`checkpoint: the tensors do not match the model description (${[
      ...(missing.length ? [`missing: ${missing.join(', ')}`] : []), ...(unexpected.length ? [`unexpected: ${unexpected.join(', ')}`] : [])].join('; ')})`);
  }
  for (const p of want) {
    const got = weights[p.name].shape;
    if (got.join() !== p.shape.join()) throw new FormatError(`checkpoint: tensor '${p.name}' has shape [${got.join(', ')}], the model needs [${p.shape.join(', ')}]`);
  }
  const built: (Module | Recurrent)[] = [];
  let model: Sequential | Recurrent;
  try {
    for (const s of specs) built.push(buildLayer(s, opts.engine));
    model = seq ? new Sequential(built) : built[0] as Recurrent;
    model.loadStateDict(weights);
  } catch (err) {
    for (const l of built) l.dispose();
    if (err instanceof FormatError || err instanceof NumericError) throw err;
    throw new FormatError(`checkpoint: does not describe a valid model (${(err as Error).message})`);
  }
  const out: Checkpoint = { model, metadata: meta };
  if (optim) {
    out.optimizerKind = optim.kind;
    out.optimizer = { step: optim.step, options: optim.options, buffers };
  }
  return out;
}

/** The optimizer entry's form: { kind, step, options }; its buffers and option values are checked by the optimizer's loadStateDict. */
function checkOptimizer(o: unknown): { kind: string; step: number; options: Record<string, unknown> } {
  const v = o as { kind?: unknown; step?: unknown; options?: unknown } | null;
  if (!v || typeof v !== 'object' || typeof v.kind !== 'string' || !Number.isSafeInteger(v.step) || (v.step as number) < 0 ||
      !v.options || typeof v.options !== 'object' || Array.isArray(v.options)) {
    throw new FormatError('checkpoint: the \'optimizer\' metadata is not { kind, step (an integer ≥ 0), options }');
  }
  return v as { kind: string; step: number; options: Record<string, unknown> };
}

function parse<T>(json: string | undefined, what: string): T {
  if (json === undefined) throw new FormatError(`checkpoint: no '${what}' entry in the metadata`);
  try {
    return JSON.parse(json) as T;
  } catch {
    throw new FormatError(`checkpoint: the '${what}' metadata is not valid JSON`);
  }
}
