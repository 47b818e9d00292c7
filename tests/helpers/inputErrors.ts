/**
 * Assertions on the readers' one error type: the tests check that bad input fails with an InputError (of the
 * expected kind and message), never with another exception.
 */
import { expect } from 'vitest';
import { InputError } from '../../src/data/inputError.ts';

/** The InputError `action` throws; fails the test when it throws something else or nothing. */
export function inputErrorOf(action: () => unknown): InputError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

/** Awaits `promise`, expecting it to reject with an InputError of `kind` whose message matches; returns the error. */
export async function expectInputError(promise: Promise<unknown>, kind: InputError['kind'], message: RegExp): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).kind).toBe(kind);
  expect((error as InputError).message).toMatch(message);
  return error as InputError;
}
