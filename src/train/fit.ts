// A training loop: batches, forward, loss, backward, clipping, optimizer step, reports,
// validation, early stopping, and a guard that stops on a non-finite loss or gradient with a
// clear error while the model keeps its last good weights.
import { NumericError, ShapeError } from '../errors.js';
import type { Sequential } from '../nn/sequential.js';
import { Tensor } from '../tensor.js';
import { clipGradNorm, clipGradValue } from './clip.js';
import { BatchIterator, IGNORE, type Batch, type Sample, type TargetKind } from './data.js';
import { CrossEntropyLoss } from './loss.js';
import type { Optimizer } from './optim.js';

/** What fit needs of a loss: torch-like forward (returns the reduced loss) and backward. */
export interface LossFn {
  forward(input: Tensor, target: Tensor, opts?: { lengths?: ArrayLike<number> }): number;
  backward(): Tensor;
}

export interface StepReport {
  epoch: number; step: number; loss: number;
  /** Global 2-norm of the gradients before clipping. */
  gradNorm: number;
  sequencesPerSec: number; lr: number;
}
export interface EpochReport {
  epoch: number; loss: number; gradNorm: number; sequencesPerSec: number; seconds: number;
  valLoss?: number;
  /** Fraction of correct argmax predictions (class targets with a cross-entropy loss). */
  valAccuracy?: number;
}
export interface FitOptions {
  loss: LossFn;
  optimizer: Optimizer;
  epochs: number;
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
  targetKind?: TargetKind;
  validation?: readonly Sample[];
  clipNorm?: number;
  clipValue?: number;
  /** Stepped once per epoch (e.g. StepLR, CosineAnnealingLR) unless `schedulerPer: 'step'`. */
  scheduler?: { step(): void };
  schedulerPer?: 'epoch' | 'step';
  /** Stop when the monitored loss (validation if given, else training) has not improved by
   *  `minDelta` for `patience` epochs, and restore the best weights. */
  earlyStopping?: { patience: number; minDelta?: number };
  callbacks?: { onStep?(r: StepReport): void; onEpoch?(r: EpochReport): void };
}
export interface History { epochs: EpochReport[]; stoppedEarly: boolean; bestEpoch: number }

export function fit(model: Sequential, data: readonly Sample[], o: FitOptions): History {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new ShapeError(`fit: epochs must be a positive integer, got ${o.epochs}`);
  const es = o.earlyStopping;
  if (es !== undefined && (!es || !Number.isInteger(es.patience) || es.patience < 1 || !((es.minDelta ?? 0) >= 0))) {
    throw new ShapeError(`fit: earlyStopping needs patience, an integer ≥ 1, and minDelta ≥ 0, got patience ${es?.patience}, minDelta ${es?.minDelta}`);
  }
  const it = new BatchIterator(data, { batchSize: o.batchSize ?? 32, shuffle: o.shuffle ?? true, seed: o.seed ?? 0, targetKind: o.targetKind });
  const stores = model.parameters();
  const history: History = { epochs: [], stoppedEarly: false, bestEpoch: 0 };
  // The weights before each update, to restore if an update makes them non-finite.
  const saved = stores.map((st) => new Float32Array(st.size));
  let best = Infinity, bestWeights: ReturnType<Sequential['stateDict']> | null = null, waited = 0, step = 0;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    model.train();
    const t0 = now();
    let lossSum = 0, normSum = 0, seqs = 0, batches = 0;
    for (const batch of it.epoch()) {
      const ts = now();
      model.zeroGrad();
      const out = model.forward(batch.x, { lengths: batch.lengths, training: true });
      const loss = o.loss.forward(out, batch.target, lossOpts(out, batch));
      if (!Number.isFinite(loss)) throw new NumericError(`fit: loss is ${loss} at epoch ${epoch}, step ${step + 1}; stopped before updating, the model keeps its last good weights`);
      model.backward(o.loss.backward(), { inputGrad: false }); // the batch is data
      const norm = o.clipNorm !== undefined ? clipGradNorm(stores, o.clipNorm) : clipGradNorm(stores, Infinity);
      if (!Number.isFinite(norm)) throw new NumericError(`fit: gradient norm is ${norm} at epoch ${epoch}, step ${step + 1}; stopped before updating, the model keeps its last good weights`);
      if (o.clipValue !== undefined) clipGradValue(stores, o.clipValue);
      stores.forEach((st, i) => saved[i].set(st.engine.f32.subarray(st.paramsPtr >>> 2, (st.paramsPtr >>> 2) + st.size)));
      o.optimizer.step();
      if (stores.some((st) => !Number.isFinite(st.engine.kernels.f32_sumsq(st.size, st.paramsPtr)))) {
        stores.forEach((st, i) => { st.engine.write(st.paramsPtr, saved[i]); st.markChanged(); });
        throw new NumericError(`fit: the update at epoch ${epoch}, step ${step + 1} made weights non-finite (learning rate too high?); restored the weights from before it`);
      }
      if (o.scheduler && o.schedulerPer === 'step') o.scheduler.step();
      step++; batches++; seqs += batch.size; lossSum += loss * batch.size; normSum += norm;
      o.callbacks?.onStep?.({ epoch, step, loss, gradNorm: norm, sequencesPerSec: batch.size / Math.max(now() - ts, 1e-6) * 1000, lr: o.optimizer.lr });
    }
    if (o.scheduler && o.schedulerPer !== 'step') o.scheduler.step();
    const seconds = (now() - t0) / 1000;
    const report: EpochReport = { epoch, loss: lossSum / seqs, gradNorm: normSum / batches, sequencesPerSec: seqs / Math.max(seconds, 1e-9), seconds };
    if (o.validation?.length) Object.assign(report, evaluate(model, o.validation, o.loss, { batchSize: o.batchSize ?? 32, targetKind: o.targetKind }));
    history.epochs.push(report);
    o.callbacks?.onEpoch?.(report);

    const monitored = report.valLoss ?? report.loss;
    if (monitored < best - (o.earlyStopping?.minDelta ?? 0)) {
      best = monitored; history.bestEpoch = epoch; waited = 0;
      if (o.earlyStopping) bestWeights = model.stateDict();
    } else if (o.earlyStopping && ++waited >= o.earlyStopping.patience) {
      history.stoppedEarly = true;
      break;
    }
  }
  if (history.stoppedEarly && bestWeights) model.loadStateDict(bestWeights);
  model.train();
  return history;
}

/** Loss (and accuracy for class targets under cross-entropy) over samples, in eval mode. */
export function evaluate(model: Sequential, samples: readonly Sample[], loss: LossFn,
                         opts: { batchSize?: number; targetKind?: TargetKind } = {}): { valLoss: number; valAccuracy?: number } {
  const it = new BatchIterator(samples, { batchSize: opts.batchSize ?? 32, targetKind: opts.targetKind });
  let sum = 0, n = 0, right = 0, counted = 0;
  const wasTraining = model.training;
  model.eval();
  for (const batch of it.epoch()) {
    const out = model.forward(batch.x, { lengths: batch.lengths, training: false });
    sum += loss.forward(out, batch.target, lossOpts(out, batch)) * batch.size;
    n += batch.size;
    if (loss instanceof CrossEntropyLoss) { const [r, c] = accuracy(out, batch); right += r; counted += c; }
  }
  model.train(wasTraining);
  return { valLoss: sum / n, ...(counted ? { valAccuracy: right / counted } : {}) };
}

/** Correct argmax predictions and the number of scored rows (ignoring IGNORE / padded steps). */
export function accuracy(out: Tensor, batch: Batch): [number, number] {
  const C = out.shape[out.shape.length - 1], rows = out.size / C, B = batch.size;
  let right = 0, n = 0;
  for (let i = 0; i < rows; i++) {
    const y = batch.target.data[i];
    if (y === IGNORE || (out.shape.length === 3 && Math.floor(i / B) >= batch.lengths[i % B])) continue;
    let k = 0;
    for (let c = 1; c < C; c++) if (out.data[i * C + c] > out.data[i * C + k]) k = c;
    right += k === y ? 1 : 0; n++;
  }
  return [right, n];
}

/** Per-step outputs (T, B, …) are masked by the lengths; per-sequence outputs need none. */
function lossOpts(out: Tensor, batch: Batch): { lengths?: Int32Array } {
  return out.shape.length === 3 ? { lengths: batch.lengths } : {};
}

const now = () => (typeof performance === 'object' ? performance.now() : Date.now());
