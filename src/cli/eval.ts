import type { Command } from 'commander';

/** Placeholder: the `eval` verb is not implemented yet. */
export function register(_program: Command): void {}
