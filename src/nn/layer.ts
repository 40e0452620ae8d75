// What every layer with parameters shares: one ParameterStore (PyTorch names), the state-dict
// and gradient accessors over it, and disposal. Subclasses free their own working memory in
// release().
import { StateError } from '../errors.js';
import type { Tensor, TensorLike } from '../tensor.js';
import type { ParameterStore } from './params.js';

export abstract class Layer {
  abstract readonly params: ParameterStore;
  /** The name used in errors ("LSTM", "Linear", …). */
  protected abstract get label(): string;
  private disposed = false;

  parameters(): ParameterStore[] { return [this.params]; }
  /** Copies of the parameters, by PyTorch state_dict name. */
  stateDict(): Record<string, Tensor> { this.live(); return this.params.stateDict(); }
  /** Load parameters by name (validated first; nothing changes on error). */
  loadStateDict(record: Record<string, TensorLike>, opts: { strict?: boolean } = {}): void {
    this.live();
    this.params.load(record, opts.strict ?? true);
  }
  /** Copies of the accumulated parameter gradients, by name. */
  gradients(): Record<string, Tensor> { this.live(); return this.params.gradients(); }
  zeroGrad(): void { this.live(); this.params.zeroGrad(); }

  /** Give the layer's memory back to the engine. The layer is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.release();
    this.params.dispose();
    this.disposed = true;
  }

  /** Free working memory (arenas); called once, by dispose(). */
  protected abstract release(): void;

  protected live(): void {
    if (this.disposed) throw new StateError(`wasm-rnn: this ${this.label} was disposed`);
  }
}
