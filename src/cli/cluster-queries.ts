import type { Command } from 'commander';

/** Placeholder: the `cluster-queries` verb is not implemented yet. */
export function register(_program: Command): void {}
