// Losses as modules: `new nn.CrossEntropyLoss().forward(logits, labels)`. Each calls its functional form.
import type { Tensor } from '../tensor.js';
import * as F from './functional.js';
import { Module } from './module.js';

abstract class Loss extends Module {
  constructor(readonly reduction: F.Reduction = 'mean') { super(); }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
  override extraRepr(): string { return `reduction='${this.reduction}'`; }
}

export class MSELoss extends Loss {
  forward(input: Tensor, target: Tensor): Tensor { return F.mseLoss(input, target, this.reduction); }
}

export class L1Loss extends Loss {
  forward(input: Tensor, target: Tensor): Tensor { return F.l1Loss(input, target, this.reduction); }
}

export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(options: { reduction?: F.Reduction; delta?: number } = {}) {
    super(options.reduction);
    this.delta = options.delta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor { return F.huberLoss(input, target, this.reduction, this.delta); }
}

export class SmoothL1Loss extends Loss {
  readonly beta: number;
  constructor(options: { reduction?: F.Reduction; beta?: number } = {}) {
    super(options.reduction);
    this.beta = options.beta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor { return F.smoothL1Loss(input, target, this.reduction, this.beta); }
}

export class BCELoss extends Loss {
  readonly weight: Tensor | null;
  constructor(options: { reduction?: F.Reduction; weight?: Tensor | null } = {}) {
    super(options.reduction);
    this.weight = options.weight ?? null;
  }
  forward(input: Tensor, target: Tensor): Tensor { return F.binaryCrossEntropy(input, target, this.reduction, this.weight); }
}

export class BCEWithLogitsLoss extends Loss {
  readonly weight: Tensor | null;
  readonly posWeight: Tensor | null;
  constructor(options: { reduction?: F.Reduction; weight?: Tensor | null; posWeight?: Tensor | null } = {}) {
    super(options.reduction);
    this.weight = options.weight ?? null;
    this.posWeight = options.posWeight ?? null;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, this.reduction, { weight: this.weight, posWeight: this.posWeight });
  }
}

export class CrossEntropyLoss extends Loss {
  readonly options: F.CrossEntropyOptions;
  constructor(options: F.CrossEntropyOptions = {}) {
    super(options.reduction);
    this.options = { ...options, reduction: this.reduction };
  }
  forward(input: Tensor, target: Tensor): Tensor { return F.crossEntropy(input, target, this.options); }
}

export class NLLLoss extends Loss {
  readonly options: F.NllOptions;
  constructor(options: F.NllOptions = {}) {
    super(options.reduction);
    this.options = { ...options, reduction: this.reduction };
  }
  forward(input: Tensor, target: Tensor): Tensor { return F.nllLoss(input, target, this.options); }
}
