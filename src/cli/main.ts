#!/usr/bin/env node
/**
 * `densekit` command line. Verbs mirror the library (as Pyserini's do): encode, tokenize, index, search,
 * fuse, eval, beir, cluster-queries, mine, train, serve, download, verify, export, export-web. Each verb lives in its own module and registers
 * itself on the program; only the verb being run is imported (issue 16: importing all of them cost ~0.4 s per
 * call, fastify, pg and usearch included, for `densekit --help` and a one-line `densekit eval`). The others are
 * listed by name and summary (src/cli/verbs.ts) so that `densekit --help` and unknown-verb errors stay as they were.
 */
import { Command, CommanderError } from 'commander';
import { DensekitError } from '../errors.js';
import { describeSystemError, isSystemError } from '../util/fs.js';
import { cliMessage } from './flags.js';
import { VERB_SUMMARIES, type VerbName } from './verbs.js';

type VerbModule = { register(program: Command): void };

/** The one place a verb name maps to its module; import() of a literal path so bundlers and tsc see each one. */
const VERB_MODULES: Record<VerbName, () => Promise<VerbModule>> = {
  encode: () => import('./encode.js'),
  tokenize: () => import('./tokenize.js'),
  index: () => import('./index-cmd.js'),
  search: () => import('./search.js'),
  fuse: () => import('./fuse.js'),
  eval: () => import('./eval.js'),
  beir: () => import('./beir.js'),
  'cluster-queries': () => import('./cluster-queries.js'),
  mine: () => import('./mine.js'),
  train: () => import('./train.js'),
  serve: () => import('./serve.js'),
  demo: () => import('./demo.js'),
  download: () => import('./download.js'),
  verify: () => import('./verify.js'),
  export: () => import('./export.js'),
  'export-web': () => import('./export-web.js'),
};

export const VERBS = Object.keys(VERB_SUMMARIES) as VerbName[];

function isVerb(name: string | undefined): name is VerbName {
  return name !== undefined && Object.hasOwn(VERB_SUMMARIES, name);
}

/**
 * The verb `argv` runs (or asks help for: `densekit help VERB`), if any: the first argument that is not a flag, as
 * commander reads it (the program itself takes only --help and --version, neither with a value).
 */
export function verbOf(argv: readonly string[]): VerbName | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const first = words[0] === 'help' ? words[1] : words[0];
  return isVerb(first) ? first : undefined;
}

/**
 * The program with `load` verbs fully registered (their modules imported) and every other verb as a name and
 * summary only, enough for the verb list in `densekit --help`. `load: 'all'` imports every verb (tests that
 * inspect all options).
 */
export async function buildProgram(load: readonly VerbName[] | 'all' = []): Promise<Command> {
  const program = new Command('densekit')
    .description('Dense retrieval toolkit: encode, index, search, evaluate, train and serve')
    .version('0.1.0')
    .showHelpAfterError(false)
    // commander's own flag errors ("error: unknown option ...") get the prefix every other error has.
    .configureOutput({ outputError: (line, write) => write(`densekit: ${line.trimEnd().replace(/\s*\n\s*/g, ' ')}\n`) })
    .exitOverride();
  const wanted = new Set(load === 'all' ? VERBS : load);
  const modules = await Promise.all(VERBS.map((v) => (wanted.has(v) ? VERB_MODULES[v]() : undefined)));
  VERBS.forEach((verb, i) => {
    const module = modules[i];
    if (module) module.register(program);
    else program.command(verb).description(VERB_SUMMARIES[verb]).usage('[options]');
  });
  return program;
}

/** Control bytes from a hostile file (a NUL in tokenizer.json) would reach the terminal raw: escape them. */
function printable(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export async function main(argv: string[]): Promise<number> {
  try {
    const verb = verbOf(argv);
    await (await buildProgram(verb ? [verb] : [])).parseAsync(argv, { from: 'user' });
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
