// wasm-rnn: recurrent networks on WebAssembly SIMD, shaped like torch.nn.
export { init, createEngine, getEngine, hasSimd, hasRelaxedSimd, defaultBuild, defaultThreadsBuild, Engine, type WasmSource, type EngineOptions } from './engine/engine.js';
export { Tensor, type TensorLike, type NestedArray } from './tensor.js';
export {
  Recurrent, LSTM, GRU, RNN,
  type RecurrentKind, type RecurrentOptions, type LSTMOptions, type RNNOptions, type RecurrentConfig,
  type RecurrentState, type ForwardResult, type BackwardGrads, type BackwardResult,
} from './nn/recurrent.js';
export { ParameterStore, type ParamSlice } from './nn/params.js';
export { Sequential, RecurrentModule } from './nn/sequential.js';
export type { Module, Context } from './nn/module.js';
export { constant, uniform, xavierUniform, orthogonal, identity, forgetBias } from './nn/init.js';
export { BatchIterator, makeBatch, IGNORE, type Sample, type Batch, type TargetKind } from './train/data.js';
export { addingProblem, delayedRecall, grammarText, charVocab } from './data/tasks.js';
export { Linear, type LinearOptions, type Activation } from './nn/linear.js';
export { Embedding, type EmbeddingOptions } from './nn/embedding.js';
export { SequenceHead, type SequenceHeadOptions, type HeadMode } from './nn/heads.js';
export {
  CrossEntropyLoss, MSELoss, BCEWithLogitsLoss,
  type Reduction, type LossOptions, type CrossEntropyOptions, type LossCallOptions, type Targets,
} from './train/loss.js';
export {
  Optimizer, SGD, RMSprop, Adam, AdamW, Adagrad,
  type ParameterSource, type OptimizerStateDict, type SGDOptions, type RMSpropOptions, type AdamOptions, type AdagradOptions,
} from './train/optim.js';
export { clipGradNorm, clipGradValue } from './train/clip.js';
export {
  LRScheduler, StepLR, LinearLR, CosineAnnealingLR, SequentialLR,
  type StepLROptions, type LinearLROptions, type CosineAnnealingLROptions, type SequentialLROptions,
} from './train/schedule.js';
export { fit, evaluate, type FitOptions, type History, type StepReport, type EpochReport, type LossFn } from './train/fit.js';
export { fitStream, type StreamOptions } from './train/stream.js';
export { generate, sampleLogits, type GenerateOptions, type SampleOptions } from './train/generate.js';
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from './io/checkpoint.js';
export { readSafetensors, writeSafetensors, type SafetensorsFile, type Tensor32, type DType } from './io/safetensors.js';
export { ShapeError, FormatError, NumericError, StateError } from './errors.js';
