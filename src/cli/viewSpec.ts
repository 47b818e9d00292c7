/**
 * The view options of `steve render` and `steve export`: exactly the vocabulary of src/view/spec.ts (VIEW_OPTIONS),
 * registered on a Commander command, and their values mapped to a ViewSpec. Nothing about views is decided here.
 */
import type { Command } from 'commander';
import type { ViewOptionValues, ViewSpec } from '../view/spec.ts';
import { VIEW_OPTIONS, ViewError, parseViewSpec as parseSpec } from '../view/spec.ts';
import { CliError } from './cliError.ts';

export type { ViewOptionValues, ViewSpec };

/**
 * Adds the view options to `command`: those choosing the numbers, and (`looks`: render, not export) those choosing
 * how they are drawn. Defaults are applied by the spec, not by Commander, so an option left out stays unset.
 */
export function addViewSpecOptions(command: Command, looks: boolean): Command {
  for (const option of VIEW_OPTIONS) {
    if (option.look && !looks) continue;
    command.option(option.value ? `${option.flag} ${option.value}` : option.flag, option.help);
  }
  return command;
}

/** The ViewSpec of the options; a problem is a CliError (exit 2) with the spec's sentence. */
export function parseViewSpec(options: ViewOptionValues): ViewSpec {
  try {
    return parseSpec(options);
  } catch (error) {
    // The options alone are wrong (data-dependent checks come later, in the plan): a usage error, exit 2.
    if (error instanceof ViewError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** `value` if it is one of `choices`, else a CliError (exit 2) listing them. */
export function oneOf<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new CliError(`${option} must be ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}, got "${value}"`, 2);
}
