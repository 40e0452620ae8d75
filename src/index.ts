// wasm-rnn: recurrent networks on WebAssembly SIMD, shaped like torch.nn.
export { init, createEngine, getEngine, hasSimd, Engine, type WasmSource } from './engine/engine.js';
export { Tensor, type TensorLike, type NestedArray } from './tensor.js';
export {
  Recurrent, LSTM, GRU, RNN,
  type RecurrentKind, type RecurrentOptions, type LSTMOptions, type RNNOptions, type RecurrentConfig,
  type RecurrentState, type ForwardResult, type BackwardGrads, type BackwardResult,
} from './nn/recurrent.js';
export { ParameterStore, type ParamSlice } from './nn/params.js';
export { readSafetensors, writeSafetensors, type SafetensorsFile, type Tensor32, type DType } from './io/safetensors.js';
export { ShapeError, FormatError, NumericError, StateError } from './errors.js';
