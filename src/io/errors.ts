/**
 * Re-export of the data error class, which lives in `core/errors.ts` so every layer can use it.
 * Kept so existing imports of `io/errors.ts` keep working.
 */
export { DataError, ValidationError, ModelFileError, type ErrorContext as DataErrorContext } from '../core/errors.ts';
