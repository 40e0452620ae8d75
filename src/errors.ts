// Typed errors. Every public call validates before it changes any state, so a thrown error
// leaves models, files and memory as they were.

/** A tensor or argument has the wrong shape, size or layout. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A file or serialized record is malformed, truncated, or of an unsupported kind. */
export class FormatError extends Error {
  override name = 'FormatError';
}

/** A value is not finite (NaN / Infinity) where a finite number is required. */
export class NumericError extends Error {
  override name = 'NumericError';
}

/** The engine is used in a wrong order (backward before forward, after dispose, …). */
export class StateError extends Error {
  override name = 'StateError';
}
