import type { Command } from 'commander';

/** Placeholder: the `mine` verb is not implemented yet. */
export function register(_program: Command): void {}
