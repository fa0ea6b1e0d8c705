/**
 * The one place library parameter names become CLI flags: an error about a parameter (DensekitError.param,
 * e.g. `shardSize`) names it, and the CLI shows the flag the user typed instead.
 */
import type { DensekitError } from '../errors.js';

/** camelCase parameter -> --kebab-case flag; the flags whose name is not that rule's are listed. */
const FLAG_OF: Readonly<Record<string, string>> = { M: '--M' };

export function flagOf(param: string): string {
  return FLAG_OF[param] ?? `--${param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The error's message as the CLI prints it. */
export function cliMessage(e: DensekitError): string {
  if (e.param === undefined) return e.message;
  const name = new RegExp(`(?<![\\w-])${e.param}(?![\\w-])`, 'g');
  return e.message.replace(name, flagOf(e.param));
}
