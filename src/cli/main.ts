#!/usr/bin/env node
/**
 * `densekit` command line. Verbs mirror the library (as Pyserini's do): encode, tokenize, index, search,
 * fuse, eval, beir, cluster-queries, mine, train, serve, download. Each verb lives in its own module and registers
 * itself on the program.
 */
import { Command, CommanderError } from 'commander';
import { DensekitError } from '../errors.js';
import { register as registerEncode } from './encode.js';
import { register as registerTokenize } from './tokenize.js';
import { register as registerIndex } from './index-cmd.js';
import { register as registerSearch } from './search.js';
import { register as registerFuse } from './fuse.js';
import { register as registerEval } from './eval.js';
import { register as registerBeir } from './beir.js';
import { register as registerTrain } from './train.js';
import { register as registerClusterQueries } from './cluster-queries.js';
import { register as registerMine } from './mine.js';
import { register as registerServe } from './serve.js';
import { register as registerDemo } from './demo.js';
import { register as registerDownload } from './download.js';

export function buildProgram(): Command {
  const program = new Command('densekit')
    .description('Dense retrieval toolkit: encode, index, search, evaluate, train and serve')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride();
  for (const register of [
    registerEncode, registerTokenize, registerIndex, registerSearch, registerFuse,
    registerEval, registerBeir, registerClusterQueries, registerMine, registerTrain, registerServe, registerDemo, registerDownload,
  ]) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof DensekitError) {
      process.stderr.write(`densekit: error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
