// Gradient clipping with torch.nn.utils semantics (1.13): clip_grad_norm_ and clip_grad_value_,
// over every store's flat gradient buffer with the WASM kernels f32_sumsq / f32_absmax /
// f32_scale / f32_clamp (assembly/kernels/optim.ts). Padding floats between slices hold 0 and
// add nothing to a norm. Clipping by the global norm: Pascanu, Mikolov & Bengio 2013.
import { collectStores, type ParameterSource } from './optim.js';

/**
 * Scale all gradients together so that their total `normType`-norm is at most `maxNorm`:
 * total = ‖(‖g₁‖, ‖g₂‖, …)‖ = the norm of all gradients as one vector (max |g| for Infinity);
 * when maxNorm / (total + 1e-6) < 1 every gradient is multiplied by it. Returns the total norm
 * BEFORE clipping (0 when there are no parameters). As in torch, a NaN total makes the factor
 * NaN and poisons the gradients instead of hiding the problem.
 */
export function clipGradNorm(params: ParameterSource, maxNorm: number, normType = 2): number {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be a number ≥ 0 (Infinity: measure only), got ${maxNorm}`);
  if (!(normType > 0)) throw new RangeError(`clipGradNorm: normType must be > 0 or Infinity, got ${normType}`);
  const stores = collectStores(params, 'clipGradNorm');
  if (stores.length === 0) return 0;
  let total = 0;
  if (normType === Infinity) {
    // f32_absmax returns NaN when any gradient is NaN, and Math.max keeps it.
    for (const s of stores) total = Math.max(total, s.engine.kernels.f32_absmax(s.size, s.gradsPtr));
  } else if (normType === 2) {
    for (const s of stores) total += s.engine.kernels.f32_sumsq(s.size, s.gradsPtr);
    total = Math.sqrt(total);
  } else {
    // Any other p: rare, so a plain loop over the memory view (fresh after any memory.grow).
    for (const s of stores) {
      const f = s.engine.f32, base = s.gradsPtr >>> 2;
      for (let i = 0; i < s.size; i++) total += Math.abs(f[base + i]) ** normType;
    }
    total = total ** (1 / normType);
  }
  const coef = maxNorm / (total + 1e-6);
  if (!(coef >= 1)) for (const s of stores) s.engine.kernels.f32_scale(s.size, s.gradsPtr, coef);
  return total;
}

/** Clamp every gradient into [−clipValue, clipValue] (torch.nn.utils.clip_grad_value_). */
export function clipGradValue(params: ParameterSource, clipValue: number): void {
  if (!(Number.isFinite(clipValue) && clipValue >= 0)) {
    throw new RangeError(`clipGradValue: clipValue must be a finite number ≥ 0, got ${clipValue}`);
  }
  for (const s of collectStores(params, 'clipGradValue')) s.engine.kernels.f32_clamp(s.size, s.gradsPtr, -clipValue, clipValue);
}
