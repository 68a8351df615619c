/**
 * The single error type of the data layer (defined with the other user-facing errors in src/errors.ts; exit code 3).
 *
 * Every failure to find, read or validate a data file is reported as a
 * `DataError` whose message names the file (or the places searched), what was
 * expected and what was found, so that a user can fix the problem from the
 * message alone without reading a stack trace.
 */
export { DataError } from '../errors.js';
