/**
 * The single error type of the data layer.
 *
 * Every failure to find, read or validate a data file is reported as a
 * `DataError` whose message names the file (or the places searched), what was
 * expected and what was found, so that a user can fix the problem from the
 * message alone without reading a stack trace.
 */
export class DataError extends Error {
  override readonly name = 'DataError';

  constructor(message: string) {
    super(message);
  }
}
