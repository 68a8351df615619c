import { BatchcamError, EXIT_CODES } from '../errors.js';

/** A loss term or gradient went NaN/Inf; training stops and the last good checkpoint stays as it was (exit 5). */
export class NonFiniteError extends BatchcamError {
  override readonly exitCode = EXIT_CODES.diverged;

  constructor(readonly step: number, readonly term: string, readonly value: number) {
    super(`training diverged at step ${step}: ${term} is ${value}. The last good checkpoint is kept; ` +
      'lower --lr (or the lambdas), or raise --warmup-steps, and resume or restart.');
  }
}
