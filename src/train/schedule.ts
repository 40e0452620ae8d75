// Learning-rate schedules with torch.optim.lr_scheduler's closed forms (1.13). Epoch e counts
// scheduler.step() calls; constructing a scheduler applies its lr for e = 0, like torch.
// Every schedule scales the optimizer's initial lr (torch's param_group['initial_lr']): the
// first scheduler attached to an optimizer records it, later ones reuse it.
//   StepLR:            lr = base · γ^⌊e / stepSize⌋
//   LinearLR:          lr = base · (start + (end − start) · min(e, totalIters) / totalIters)
//   CosineAnnealingLR: lr = ηmin + (base − ηmin) · (1 + cos(π e / Tmax)) / 2
//                      (SGDR without restarts, Loshchilov & Hutter 2017)
//   SequentialLR:      schedulers[i] from milestones[i−1] on, restarted at its local epoch 0
import type { Optimizer } from './optim.js';

type ClosedForm = (epoch: number, baseLr: number) => number;

export abstract class LRScheduler {
  /** The lr every closed form scales. */
  readonly baseLr: number;
  /** Number of step() calls so far. */
  lastEpoch = 0;
  /** The lr the last step (or the constructor) set. */
  lastLr: number;

  protected constructor(readonly optimizer: Optimizer, private readonly form: ClosedForm) {
    optimizer.initialLr ??= optimizer.lr;
    this.baseLr = optimizer.initialLr;
    this.lastLr = this.apply(0);
  }

  /** The lr this schedule gives at `epoch` (no side effects). */
  lrAt(epoch: number): number {
    return this.form(epoch, this.baseLr);
  }

  /** Advance one epoch (or one iteration, as you count) and set the optimizer's lr. */
  step(): number {
    this.lastEpoch++;
    return (this.lastLr = this.apply(this.lastEpoch));
  }

  private apply(epoch: number): number {
    const lr = this.lrAt(epoch);
    this.optimizer.lr = lr;
    return lr;
  }
}

function check(kind: string, name: string, v: number, ok: boolean, want: string): void {
  if (!ok) throw new RangeError(`${kind}: option '${name}' must be ${want}, got ${v}`);
}
const isInt = (v: number) => Number.isSafeInteger(v) && v > 0;
const isNonNeg = (v: number) => Number.isFinite(v) && v >= 0;

export interface StepLROptions { stepSize: number; gamma?: number }

/** Decay by gamma every stepSize epochs (torch default gamma 0.1). */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, { stepSize, gamma = 0.1 }: StepLROptions) {
    check('StepLR', 'stepSize', stepSize, isInt(stepSize), 'a positive integer');
    check('StepLR', 'gamma', gamma, isNonNeg(gamma), 'a finite number ≥ 0');
    super(optimizer, (e, base) => base * gamma ** Math.floor(e / stepSize));
  }
}

export interface LinearLROptions { startFactor?: number; endFactor?: number; totalIters?: number }

/** Linear ramp of the factor from startFactor to endFactor over totalIters epochs (warmup). */
export class LinearLR extends LRScheduler {
  constructor(optimizer: Optimizer, { startFactor = 1 / 3, endFactor = 1, totalIters = 5 }: LinearLROptions = {}) {
    check('LinearLR', 'startFactor', startFactor, startFactor >= 0 && startFactor <= 1, 'in [0, 1]');
    check('LinearLR', 'endFactor', endFactor, endFactor >= 0 && endFactor <= 1, 'in [0, 1]');
    check('LinearLR', 'totalIters', totalIters, isInt(totalIters), 'a positive integer');
    super(optimizer, (e, base) =>
      base * (startFactor + (endFactor - startFactor) * Math.min(totalIters, e) / totalIters));
  }
}

export interface CosineAnnealingLROptions { tMax: number; etaMin?: number }

/** Half a cosine from the base lr down to etaMin over tMax epochs, then back up (periodic). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer, { tMax, etaMin = 0 }: CosineAnnealingLROptions) {
    check('CosineAnnealingLR', 'tMax', tMax, isInt(tMax), 'a positive integer');
    check('CosineAnnealingLR', 'etaMin', etaMin, isNonNeg(etaMin), 'a finite number ≥ 0');
    super(optimizer, (e, base) => etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * e / tMax)) / 2);
  }
}

export interface SequentialLROptions { schedulers: LRScheduler[]; milestones: number[] }

/**
 * schedulers[0] until milestones[0], then schedulers[1] from its own epoch 0, and so on: e.g.
 * `new SequentialLR(opt, { schedulers: [new LinearLR(opt, …), new CosineAnnealingLR(opt, …)],
 * milestones: [warmup] })`. The sub-schedulers are only read (lrAt), never stepped.
 */
export class SequentialLR extends LRScheduler {
  constructor(optimizer: Optimizer, { schedulers, milestones }: SequentialLROptions) {
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw new RangeError('SequentialLR: schedulers must be a non-empty array');
    if (schedulers.some((s) => s.optimizer !== optimizer)) throw new RangeError('SequentialLR: every scheduler must belong to the same optimizer');
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new RangeError(`SequentialLR: expected ${schedulers.length - 1} milestones (one fewer than schedulers), got ${milestones?.length}`);
    }
    milestones.forEach((m, i) => check('SequentialLR', `milestones[${i}]`, m,
      isInt(m) && (i === 0 || m > milestones[i - 1]), 'a positive integer, increasing'));
    const ms = [...milestones];
    super(optimizer, (e) => {
      let i = 0;
      while (i < ms.length && e >= ms[i]) i++;
      return schedulers[i].lrAt(i === 0 ? e : e - ms[i - 1]);
    });
  }
}
