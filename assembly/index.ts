// The module's exports: kernels, their scalar twins, and the whole-sequence layers.
// Memory is imported (env.memory); the TypeScript side owns allocation above heap_base().

export * from './kernels/gemm';
export * from './kernels/gemm-packed';
export * from './kernels/activations';
export * from './kernels/elementwise';
export { f32_colsum, f32_nonfinite } from './kernels/reduce';
export * from './kernels/gates';
export * from './kernels/loss';
export * from './kernels/layers';
export * from './kernels/optim';
export * from './ref/index';
export * from './ref/loss';
export * from './ref/layers';
export * from './ref/optim';
export * from './cells/lstm';
export * from './cells/gru';
export * from './cells/rnn';
export * from './cells/split';

/** First byte the host allocator may use (after the module's static data). */
export function heap_base(): usize {
  return __heap_base;
}
