import type { Command } from 'commander';

/** Placeholder: the `beir` verb is not implemented yet. */
export function register(_program: Command): void {}
