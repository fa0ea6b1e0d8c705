/**
 * The file formats densekit reads and writes, one reader and one writer each, shared by encode, index, search,
 * eval, train, tokenize and serve. Every reader decodes strictly as UTF-8 (src/util/lines.ts: a bad byte is an
 * error with its line) and drops a BOM at the start of a file; the corpus, query, TSV, qrels, run and ids readers
 * refuse ids a TREC run cannot hold (./ids.ts) and duplicate ids where ids must be unique, naming file and line.
 * trec_eval's preference, judgment-group and z-score files have their own readers here (prefs.ts, qrels-jg.ts, ...).
 */
export { checkId, idProblem, IdLines, readIdsFile } from './ids.js';
export { readBeirCorpus, readBeirQueries, readBeirQrels, recordText, type BeirDocument, type BeirQuery } from './beir.js';
export { readTextRecords, readTextMap, readQueries, guessKind, isJsonl, type TextRecord, type ReadTextMapOptions } from './texts.js';
export { readQrels, countJudgments, type Qrels, type QrelsFormat } from './qrels.js';
export { readRun, writeRun, rankHits, type Run, type RunHit, type RunFormat, type WriteRunOptions } from './run.js';
export * from './embeddings.js';
