/**
 * `densekit eval [-q] [-m MEASURE]... [-l N] [-c] [-M N] [-J] [-n] QRELS RUN [RUN...]`: trec_eval's flags
 * and output for one run; a significance-tested comparison table for several; --json and --report add the
 * full-precision and HTML outputs.
 */
import type { Command } from 'commander';
import { MAX } from '../util/bounds.js';
import { boundedInt } from './options.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import {
  compareRuns, comparisonToJson, evaluate, evaluationToJson, msmarcoMrr, readQrels, readRun, renderComparison,
  renderHtmlReport, renderTrecEval, type Qrels, type Run,
} from '../eval/index.js';

interface EvalFlags {
  q?: boolean;
  m: string[];
  l?: number;
  c?: boolean;
  M?: number;
  N?: number;
  J?: boolean;
  n?: boolean;
  json?: boolean;
  report?: string;
  msmarco?: boolean;
  dropIdenticalIds?: boolean;
  permutations: number;
  bootstrap: number;
  seed: number;
}


export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate runs exactly as trec_eval 10.0 does; compare several runs with significance tests')
    .argument('<qrels>', 'judgments: TREC qrels (qid iter docid grade) or BEIR qrels tsv')
    .argument('<runs...>', 'runs: TREC (qid Q0 docid rank score tag) or MS MARCO (qid docid rank)')
    .option('-q', 'also print per-query values (trec_eval -q)')
    .option('-m <measure>', 'measure, measure.params or nickname (official, all_trec); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-l <level>', 'minimum grade counted as relevant (default 1; TREC DL uses 2)', boundedInt('-l', -MAX.relevanceLevel, 'relevanceLevel'))
    .option('-c', 'average over all judged queries; missing ones count as empty rankings')
    .option('-M <n>', 'evaluate at most n hits per query', boundedInt('-M', 0, 'evalDepth'))
    .option('-N <n>', 'documents in the collection (utility measure)', boundedInt('-N', 0, 'collectionSize'))
    .option('-J', 'evaluate over judged documents only (trec_eval: do not use)')
    .option('-n', 'no summary (`all`) lines')
    .option('--json', 'full-precision JSON instead of text')
    .option('--report <file.html>', 'also write a self-contained HTML report with plots')
    .option('--msmarco', "also print MS MARCO's official MRR@10 (averaged over all judged queries)")
    .option('--drop-identical-ids', "BEIR's convention: ignore hits whose document id equals the query id")
    .option('--permutations <n>', 'randomization test permutations', boundedInt('--permutations', 1), 10_000)
    .option('--bootstrap <n>', 'bootstrap resamples for confidence intervals', boundedInt('--bootstrap', 1), 10_000)
    .option('--seed <n>', 'seed of the randomization test and bootstrap', boundedInt('--seed', 0), 42)
    .action(async (qrelsPath: string, runPaths: string[], flags: EvalFlags) => {
      await runEval(qrelsPath, runPaths, flags);
    });
}

async function runEval(qrelsPath: string, runPaths: string[], flags: EvalFlags): Promise<void> {
  if (flags.report !== undefined && !flags.report.endsWith('.html')) throw new UsageError(`--report expects a .html path, got "${flags.report}"`);
  const qrels = await readQrels(qrelsPath);
  const runs: Run[] = [];
  for (const path of runPaths) {
    const run = await readRun(path);
    warnAboutQueries(path, qrelsPath, run, qrels);
    runs.push(run);
  }
  const options = {
    measures: flags.m, relevanceLevel: flags.l, completeQueries: flags.c, maxDocsPerQuery: flags.M,
    numDocsInCollection: flags.N, judgedOnly: flags.J, dropIdenticalIds: flags.dropIdenticalIds,
    permutations: flags.permutations, bootstrapSamples: flags.bootstrap, seed: flags.seed,
  };
  let output: string;
  if (runs.length === 1) {
    const evaluation = evaluate(qrels, runs[0]!, options);
    output = flags.json ? `${JSON.stringify(evaluationToJson(evaluation), null, 1)}\n` : renderTrecEval(evaluation, { perQuery: flags.q, summary: !flags.n });
  } else {
    const comparison = compareRuns(qrels, runs, options);
    output = flags.json ? `${JSON.stringify(comparisonToJson(comparison), null, 1)}\n` : renderComparison(comparison);
  }
  if (flags.msmarco) {
    const lines = runs.map((run, i) => {
      const r = msmarcoMrr(qrels, run, { relevanceLevel: flags.l });
      return `MRR @10\t${runPaths[i]}\t${r.mrr}\nQueriesRanked\t${runPaths[i]}\t${r.queriesRanked}\n`;
    });
    output += lines.join('');
  }
  process.stdout.write(output);
  if (flags.report !== undefined) {
    await writeFileAtomic(flags.report, renderHtmlReport(qrels, runs, options));
    process.stderr.write(`densekit: wrote report ${flags.report}\n`);
  }
}

function warnAboutQueries(runPath: string, qrelsPath: string, run: Run, qrels: Qrels): void {
  let unjudged = 0;
  for (const q of run.queries.keys()) if (!qrels.has(q)) unjudged++;
  if (unjudged > 0) {
    process.stderr.write(`densekit: warning: ${runPath}: ${unjudged} of ${run.queries.size} queries have no judgments in ${qrelsPath}; they are ignored (as trec_eval does)\n`);
  }
}
