/**
 * The file formats densekit reads and writes, one reader and one writer each, shared by encode, index, search,
 * eval, train, tokenize and serve. Every reader decodes strictly as UTF-8 (a bad byte is an error with its
 * line), drops a BOM at the start of a file, refuses ids a TREC run cannot hold (./ids.ts) and duplicate ids
 * where ids must be unique, naming file and line.
 */
export { checkId, idProblem, IdLines, readIdsFile } from './ids.js';
export { readBeirCorpus, readBeirQueries, readBeirQrels, recordText, type BeirDocument, type BeirQuery } from './beir.js';
export { readTextRecords, readTextMap, readQueries, guessKind, isJsonl, type TextRecord, type ReadTextMapOptions } from './texts.js';
export { readQrels, countJudgments, type Qrels, type QrelsFormat } from './qrels.js';
export { readRun, writeRun, rankHits, type Run, type RunHit, type RunFormat, type WriteRunOptions } from './run.js';
export * from './embeddings.js';
