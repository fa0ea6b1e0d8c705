/**
 * Fuzzing every file reader (see fuzz.helpers.ts): JSONL corpus/queries, TSV, qrels, runs, training pairs,
 * cluster files, .npy, the embeddings manifest, index.json, BM25 postings, the HNSW graph, safetensors,
 * PyTorch pickle/zip, tokenizer.json, spiece.model and recipes.
 */
import { test, after } from 'node:test';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readBeirCorpus, readEmbeddings, readQrels, readQueries, readRun, readTextRecords, writeManifest, writeShard,
} from '../src/formats/index.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { encodeSafetensors, openSafetensors } from '../src/io/safetensors.js';
import { readTorchStateDict } from '../src/io/torch-pickle.js';
import { loadTokenizerAs } from '../src/text/load.js';
import { parseRecipe } from '../src/train/recipes/load.js';
import { readMinedNegatives, readTeacherPairs, readTrainQrels, readTriples } from '../src/train/data/index.js';
import { readClusterFile } from '../src/train/cluster/cluster-file.js';
import { buildFlatIndex, buildHnswIndex, FlatIndex } from '../src/retrieval/index.js';
import { checkGraphFile } from '../src/retrieval/hnsw-file.js';
import { buildBm25Index } from '../src/retrieval/bm25/build.js';
import { Bm25Index } from '../src/retrieval/bm25/searcher.js';
import { seededRandom } from '../src/util/random.js';
import { fuzzReader, printTallies, type ReaderCase } from './fuzz.helpers.js';
import { fixturesDir, repoRoot } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'densekit-fuzz-'));
after(() => {
  printTallies();
  rmSync(root, { recursive: true, force: true });
});

const utf8 = (s: string) => Buffer.from(s, 'utf8');
async function drain<T>(it: AsyncIterable<T>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

// Valid files to start from, made here (small, so each case is fast).
const corpusJsonl = utf8('{"_id":"d1","title":"T","text":"hello world"}\n{"_id":"d2","title":"","text":"caf\u00e9 \u{1F600}"}\n');
const queriesJsonl = utf8('{"_id":"q1","text":"what is it"}\n{"_id":"q2","text":"why"}\n');
const tsv = utf8('q1\twhat is it\nq2\twhy not\n');
const trecQrels = utf8('q1 0 d1 1\nq1 0 d2 0\nq2 0 d2 2\n');
const beirQrels = utf8('query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n');
const trecRun = utf8('q1 Q0 d1 1 2.5 run\nq1 Q0 d2 2 1.25 run\nq2 Q0 d2 1 -0.5 run\n');
const msmarcoRun = utf8('q1\td1\t1\nq1\td2\t2\n');

const dim = 4;
const r = seededRandom(1);
const shardDir = join(root, 'shard-template');
mkdirSync(shardDir);
const shardEntry = writeShard(shardDir, 0, ['d1', 'd2', 'd3'], Float32Array.from({ length: 3 * dim }, () => r() - 0.5), dim);
writeManifest(shardDir, {
  format: 'densekit-embeddings', version: 1, model: 'test', kind: 'passage', dim, dtype: 'float32', similarity: 'dot', input: 'x',
  total: 3, shardSize: 3, shards: [shardEntry], truncated: { count: 0, maxLength: 0 }, complete: true,
});
const manifestBytes = readFileSync(join(shardDir, 'manifest.json'));
const npyBytes = readFileSync(join(shardDir, shardEntry.vectors));
writeNpy(join(root, 'i64.npy'), 'int64', [2, 2], new BigInt64Array([1n, 2n, 3n, 4n]));

const flatDir = join(root, 'flat-template');
buildFlatIndex(shardDir, flatDir);
const indexJson = readFileSync(join(flatDir, 'index.json'));
const hnswDir = join(root, 'hnsw-template');
await buildHnswIndex(shardDir, hnswDir, { M: 4 }, 1);
const graphBytes = readFileSync(join(hnswDir, 'graph.usearch'));

const bm25Corpus = join(root, 'bm25-corpus.jsonl');
writeFileSync(bm25Corpus, corpusJsonl);
const bm25Dir = join(root, 'bm25-template');
await buildBm25Index(bm25Corpus, bm25Dir);
const postingsBytes = readFileSync(join(bm25Dir, 'postings.bin'));

const ioFixtures = join(repoRoot, 'test/fixtures/io');
const safetensorsSeeds = [
  readFileSync(join(ioFixtures, 'reference.safetensors')),
  Buffer.concat(encodeSafetensors({ w: { dtype: 'float32', shape: [2, 2], data: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) } })),
];
const pickleSeeds = ['state.bin', 'state-legacy.bin', 'state-deflated.bin', 'state-proto4.bin'].map((f) => readFileSync(join(ioFixtures, f)));

// tokenizer.json: bert-base-uncased's, with the vocabulary cut to its first 150 entries (specials included).
const bertDir = join(fixturesDir, 'tokenizers', 'bert-base-uncased');
const tokJson = JSON.parse(readFileSync(join(bertDir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
tokJson.model.vocab = Object.fromEntries(Object.entries(tokJson.model.vocab).filter(([, id]) => id < 150 || id === 100 || id === 101 || id === 102));
const tokenizerJson = utf8(JSON.stringify(tokJson));
const spieceDir = join(fixturesDir, 'tokenizers', 't5-tiny-256');
const spiece = readFileSync(join(spieceDir, 'spiece.model'));
const recipeSeeds = [readFileSync(join(repoRoot, 'recipes', 'tas-b-msmarco.yaml')), utf8('{"seed": 1, "stages": [{"steps": 10, "batchSize": 4}]}')];

const readers: ReaderCase[] = [
  { name: 'corpus.jsonl (BM25, serve)', file: 'corpus.jsonl', seeds: [corpusJsonl], read: (p) => drain(readBeirCorpus(p)) },
  { name: 'queries.jsonl', file: 'queries.jsonl', seeds: [queriesJsonl], read: (p) => readQueries(p) },
  { name: 'queries.tsv', file: 'queries.tsv', seeds: [tsv], read: (p) => readQueries(p) },
  { name: 'encode input jsonl', file: 'corpus.jsonl', seeds: [corpusJsonl], read: (p) => drain(readTextRecords(p)) },
  { name: 'encode input tsv', file: 'collection.tsv', seeds: [tsv], read: (p) => drain(readTextRecords(p)) },
  { name: 'qrels', file: 'qrels.txt', seeds: [trecQrels, beirQrels], read: (p) => readQrels(p) },
  { name: 'run', file: 'run.trec', seeds: [trecRun, msmarcoRun], read: (p) => readRun(p) },
  { name: 'teacher pairs', file: 'pairs.tsv', seeds: [utf8('1.5 0.25 q1 d1 d2\n2 1 q2 d2 d1\n')], read: (p) => readTeacherPairs(p) },
  { name: 'triples', file: 'triples.tsv', seeds: [utf8('q1\td1\td2\nq2\td2\td1\n')], read: (p) => readTriples(p) },
  { name: 'train qrels', file: 'qrels.tsv', seeds: [beirQrels], read: (p) => readTrainQrels(p) },
  { name: 'mined negatives', file: 'negatives.trec', seeds: [trecRun], read: (p) => readMinedNegatives(p) },
  { name: 'cluster file', file: 'clusters.tsv', seeds: [utf8('q1\tq2\nq3\n')], read: (p) => readClusterFile(p) },
  { name: '.npy', file: 'a.npy', seeds: [npyBytes, readFileSync(join(root, 'i64.npy'))], read: (p) => readNpy(p) },
  {
    name: 'embeddings manifest.json', file: 'manifest.json', seeds: [manifestBytes],
    setup: (d) => { cpSync(join(shardDir, shardEntry.vectors), join(d, shardEntry.vectors)); cpSync(join(shardDir, shardEntry.ids), join(d, shardEntry.ids)); },
    read: (_p, d) => readEmbeddings(d),
  },
  {
    name: 'embeddings shard .npy', file: shardEntry.vectors, seeds: [npyBytes],
    setup: (d) => { cpSync(join(shardDir, 'manifest.json'), join(d, 'manifest.json')); cpSync(join(shardDir, shardEntry.ids), join(d, shardEntry.ids)); },
    read: (_p, d) => readEmbeddings(d),
  },
  {
    name: 'index.json (flat)', file: 'index.json', seeds: [indexJson],
    setup: (d) => { for (const f of ['vectors.f32', 'ids.txt']) cpSync(join(flatDir, f), join(d, f)); },
    read: async (_p, d) => (await FlatIndex.open(d, { kernel: 'js' })).search(new Float32Array(dim).fill(0.5), 2),
  },
  { name: 'HNSW graph.usearch', file: 'graph.usearch', seeds: [graphBytes], read: (p) => checkGraphFile(p, { count: 3, dim, M: 4 }) },
  {
    name: 'BM25 postings.bin', file: 'postings.bin', seeds: [postingsBytes],
    setup: (d) => { for (const f of ['index.json', 'ids.txt', 'terms.txt']) cpSync(join(bm25Dir, f), join(d, f)); },
    read: (_p, d) => Bm25Index.open(d).search(['hello world', 'café'], 3),
  },
  {
    name: 'safetensors', file: 'model.safetensors', seeds: safetensorsSeeds,
    read: (p) => { const f = openSafetensors(p); for (const k of f.keys()) f.get(k); },
  },
  { name: 'PyTorch pickle/zip', file: 'pytorch_model.bin', seeds: pickleSeeds, read: (p) => readTorchStateDict(p) },
  {
    name: 'tokenizer.json', file: 'tokenizer.json', seeds: [tokenizerJson],
    setup: (d) => cpSync(join(bertDir, 'tokenizer_config.json'), join(d, 'tokenizer_config.json')),
    read: (_p, d) => loadTokenizerAs(d, 'tokenizer.json').encode('Hello, wörld! 日本'),
  },
  {
    name: 'spiece.model', file: 'spiece.model', seeds: [spiece],
    setup: (d) => cpSync(join(spieceDir, 'tokenizer_config.json'), join(d, 'tokenizer_config.json')),
    read: (_p, d) => loadTokenizerAs(d, 'spiece.model').encode('Hello, wörld! 日本'),
  },
  { name: 'recipe', file: 'recipe.yaml', seeds: recipeSeeds, read: (p) => parseRecipe(readFileSync(p, 'utf8'), p) },
];

for (const c of readers) {
  test(`fuzz: ${c.name} gives a result or one DensekitError line for any bytes`, async () => {
    await fuzzReader(root, c);
  });
}
