/**
 * `densekit eval [-q] [-m MEASURE]... [-l N] [-c] [-M N] [-N N] [-J] [-n] [-R FORMAT] [-T FORMAT] [-Z FILE]
 * [-D N[.QID]] QRELS RUN [RUN...]`: trec_eval 10.0's flags and output for one run; a significance-tested
 * comparison table for several; --json and --report add the full-precision and HTML outputs.
 */
import type { Command } from 'commander';
import { MAX } from '../util/bounds.js';
import { boundedInt } from './options.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import {
  compareRuns, comparisonToJson, evaluate, evaluationToJson, MEASURES, msmarcoMrr, NICKNAMES, readQrels, readRun,
  renderComparison, renderHtmlReport, renderTrecEval, type RelInfo, type Run,
} from '../eval/index.js';
import { readPrefs } from '../formats/prefs.js';
import { readQrelsPrefs } from '../formats/qrels-prefs.js';
import { readQrelsJg } from '../formats/qrels-jg.js';
import { readZscores } from '../formats/zscores.js';
import { atol } from '../util/c-numbers.js';
import { VERB_SUMMARIES } from './verbs.js';

interface EvalFlags {
  q?: boolean;
  m: string[];
  l?: number;
  c?: boolean;
  M?: number;
  N?: number;
  J?: boolean;
  n?: boolean;
  R: string;
  T: string;
  Z?: string;
  D?: string;
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
    .description(VERB_SUMMARIES['eval'])
    .argument('<qrels>', 'judgments: TREC qrels (qid iter docid grade) or BEIR qrels tsv; other formats with -R')
    .argument('<runs...>', 'runs: TREC (qid Q0 docid rank score tag) or MS MARCO (qid docid rank)')
    .option('-q', 'also print per-query values (trec_eval -q)')
    .option('-m <measure>', 'measure, measure.params or nickname (listed below); repeatable; default official', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-l <level>', 'minimum grade counted as relevant (default 1; TREC DL uses 2)', boundedInt('-l', -MAX.relevanceLevel, 'relevanceLevel'))
    .option('-c', 'average over all judged queries; missing ones count as empty rankings')
    .option('-M <n>', 'evaluate at most n hits per query', boundedInt('-M', 0, 'evalDepth'))
    .option('-N <n>', 'documents in the collection (utility measure)', boundedInt('-N', 0, 'collectionSize'))
    .option('-J', 'evaluate over judged documents only (trec_eval: do not use)')
    .option('-n', 'no summary (`all`) lines')
    .option('-R <format>', 'judgments format: qrels, qrels_jg (qid jg docno rel), prefs (qid jg jsg docno rel_level) or qrels_prefs', 'qrels')
    .option('-T <format>', 'results format: trec_results (the only one trec_eval has)', 'trec_results')
    .option('-Z <file>', 'print z-scores against a file of lines "qid measure mean std_dev" (missing: -1000000)')
    .option('-D <level[.qid]>', 'evaluate only query qid (trec_eval\'s debug dumps are not reproduced)')
    .option('--json', 'full-precision JSON instead of text')
    .option('--report <file.html>', 'also write a self-contained HTML report with plots')
    .option('--msmarco', "also print MS MARCO's official MRR@10 (averaged over all judged queries)")
    .option('--drop-identical-ids', "BEIR's convention: ignore hits whose document id equals the query id")
    .option('--permutations <n>', 'randomization test permutations', boundedInt('--permutations', 1), 10_000)
    .option('--bootstrap <n>', 'bootstrap resamples for confidence intervals', boundedInt('--bootstrap', 1), 10_000)
    .option('--seed <n>', 'seed of the randomization test and bootstrap', boundedInt('--seed', 0), 42)
    .addHelpText('after', measuresHelp())
    .action(async (qrelsPath: string, runPaths: string[], flags: EvalFlags) => {
      await runEval(qrelsPath, runPaths, flags);
    });
}

async function runEval(qrelsPath: string, runPaths: string[], flags: EvalFlags): Promise<void> {
  if (flags.report !== undefined && !flags.report.endsWith('.html')) throw new UsageError(`--report expects a .html path, got "${flags.report}"`);
  if (flags.T !== 'trec_results') throw new UsageError(`-T ${flags.T}: unknown results format (trec_eval has only trec_results)`);
  const relInfo = await readRelInfo(qrelsPath, flags.R);
  if (flags.msmarco && relInfo.format !== 'qrels') throw new UsageError('--msmarco needs -R qrels judgments');
  const runs: Run[] = [];
  for (const path of runPaths) {
    const run = await readRun(path);
    warnAboutQueries(path, qrelsPath, run, relInfo);
    runs.push(run);
  }
  const options = {
    measures: flags.m, relevanceLevel: flags.l, completeQueries: flags.c, maxDocsPerQuery: flags.M,
    numDocsInCollection: flags.N, judgedOnly: flags.J, dropIdenticalIds: flags.dropIdenticalIds,
    zscores: flags.Z === undefined ? undefined : await readZscores(flags.Z), onlyQuery: debugQuery(flags.D),
    permutations: flags.permutations, bootstrapSamples: flags.bootstrap, seed: flags.seed,
  };
  const qrels = relInfo;
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
      const r = msmarcoMrr((qrels as Extract<RelInfo, { format: 'qrels' }>).qrels, run, { relevanceLevel: flags.l });
      return `MRR @10\t${runPaths[i]}\t${r.mrr}\nQueriesRanked\t${runPaths[i]}\t${r.queriesRanked}\n`;
    });
    output += lines.join('');
  }
  process.stdout.write(output);
  if (flags.report !== undefined) {
    await writeFileAtomic(flags.report, renderHtmlReport(qrels, runs, { ...options, sources: { qrels: qrelsPath, runs: runPaths } }));
    process.stderr.write(`densekit: wrote report ${flags.report}\n`);
  }
}

async function readRelInfo(path: string, format: string): Promise<RelInfo> {
  switch (format) {
    case 'qrels': return { format, qrels: await readQrels(path) };
    case 'qrels_jg': return { format, groups: await readQrelsJg(path) };
    case 'prefs': return { format, prefs: await readPrefs(path) };
    case 'qrels_prefs': return { format, prefs: await readQrelsPrefs(path) };
    default: throw new UsageError(`-R ${format}: unknown judgments format (expected qrels, qrels_jg, prefs or qrels_prefs)`);
  }
}

/** -D LEVEL[.QID], as trec_eval parses it; only the query restriction has an effect here. */
function debugQuery(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  const dot = arg.indexOf('.');
  const level = atol(dot === -1 ? arg : arg.slice(0, dot));
  if (level === undefined) throw new UsageError(`-D ${arg}: expected a debug level, optionally followed by .QID`);
  if (level > 0) process.stderr.write(`densekit: warning: -D ${level}: trec_eval's debug dumps are not reproduced; evaluation output is unchanged\n`);
  return dot === -1 ? undefined : arg.slice(dot + 1);
}

function judgedQueryIds(relInfo: RelInfo): ReadonlySet<string> {
  return new Set(relInfo.format === 'qrels' ? relInfo.qrels.keys() : relInfo.format === 'qrels_jg' ? relInfo.groups.keys() : relInfo.prefs.keys());
}

/** `densekit eval --help`'s list of every measure, its parameter syntax and the nicknames. */
function measuresHelp(): string {
  const syntax: Record<string, string> = {
    none: 'no parameters',
    longCutoffs: 'integer cutoffs, NAME.5,10 (read as C atol: 20.6 -> 20)',
    doubleCutoffs: 'fractional cutoffs, NAME.0.25,0.5 (printed %.2f)',
    doubleParams: 'ordered numbers, NAME.1,-1,0,0',
    pairs: 'NAME.LEVEL=GAIN,... (ndcg.1=1,2=3; rbp.p=0.8)',
  };
  const lines = ['', 'Measures (-m NAME or -m NAME.PARAMS), in the order trec_eval computes and prints them:'];
  const ordered: Record<string, string> = {
    relstring: 'NAME.LENGTH: the first LENGTH relevance values of the ranking',
    utility: 'NAME.A,B,C,D: A*rel_ret + B*nonrel_ret + C*rel_not_ret + D*nonrel_not_ret (D needs -N)',
    '11pt_avg': 'NAME.0.2,0.4: recall points to average interpolated precision over',
    set_F: 'NAME.BETA',
  };
  for (const m of MEASURES) {
    const defaults = m.defaults.length ? ` [default ${m.defaults.join(',')}]` : '';
    lines.push(`  ${m.name.padEnd(24)} ${ordered[m.name] ?? syntax[m.paramKind]}${defaults}`);
  }
  lines.push('', 'Nicknames:');
  for (const [name, list] of Object.entries(NICKNAMES)) lines.push(`  ${name.padEnd(10)} ${list.join(' ')}`);
  lines.push('', 'prefs_* measures need -R prefs or -R qrels_prefs; *_avgjg measures need -R qrels_jg; the rest need -R qrels.');
  return `${lines.join('\n')}\n`;
}

function warnAboutQueries(runPath: string, qrelsPath: string, run: Run, relInfo: RelInfo): void {
  const judged = judgedQueryIds(relInfo);
  let unjudged = 0;
  for (const q of run.queries.keys()) if (!judged.has(q)) unjudged++;
  if (unjudged > 0) {
    process.stderr.write(`densekit: warning: ${runPath}: ${unjudged} of ${run.queries.size} queries have no judgments in ${qrelsPath}; they are ignored (as trec_eval does)\n`);
  }
}
