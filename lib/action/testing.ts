// Shared by the unit tests (never imported by an action).
import { InputError } from './inputs.js';

/** The InputError `fn` throws; any other outcome fails the test. */
export function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}
