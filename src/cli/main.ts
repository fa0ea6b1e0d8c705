#!/usr/bin/env node
/**
 * `densekit` command line. Verbs mirror the library (as Pyserini's do): encode, tokenize, index, search,
 * fuse, eval, beir, cluster-queries, mine, train, serve, download, export. Each verb lives in its own module and registers
 * itself on the program.
 */
import { Command, CommanderError } from 'commander';
import { DensekitError } from '../errors.js';
import { describeSystemError, isSystemError } from '../util/fs.js';
import { cliMessage } from './flags.js';
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
import { register as registerExport } from './export.js';

export function buildProgram(): Command {
  const program = new Command('densekit')
    .description('Dense retrieval toolkit: encode, index, search, evaluate, train and serve')
    .version('0.1.0')
    .showHelpAfterError(false)
    // commander's own flag errors ("error: unknown option ...") get the prefix every other error has.
    .configureOutput({ outputError: (line, write) => write(`densekit: ${line.trimEnd().replace(/\s*\n\s*/g, ' ')}\n`) })
    .exitOverride();
  for (const register of [
    registerEncode, registerTokenize, registerIndex, registerSearch, registerFuse,
    registerEval, registerBeir, registerClusterQueries, registerMine, registerTrain, registerServe, registerDemo, registerDownload, registerExport,
  ]) register(program);
  return program;
}

/** Control bytes from a hostile file (a NUL in tokenizer.json) would reach the terminal raw: escape them. */
function printable(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof DensekitError) {
      process.stderr.write(`densekit: error: ${printable(cliMessage(e))}\n`);
      return 1;
    }
    // The OS refusing a read or write (permission, missing folder, disk full) is the user's to fix, not a bug.
    if (isSystemError(e)) {
      process.stderr.write(`densekit: error: ${printable(describeSystemError(e))}\n`);
      return 1;
    }
    throw e;
  }
}
