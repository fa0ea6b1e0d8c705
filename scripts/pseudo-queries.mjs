#!/usr/bin/env node
// Weak supervision from a BEIR corpus alone (no human queries): for each document, its title is a query for its
// text (the "title -> body" pairs of weakly supervised pre-training), and up to N of its sentences are queries for
// the rest of the text (the Inverse Cloze Task of ORQA, Lee et al. 2019: the sentence is removed from its passage,
// except with probability KEEP, so the model learns context as well as word overlap).
// Writes queries.tsv, collection.tsv and qrels.trec (one passage per pair) for `densekit train`'s gtr loss.
// Deterministic: the same corpus and seed give the same files.
//
//   node scripts/pseudo-queries.mjs CORPUS.jsonl OUT_DIR [--sentences N] [--keep P] [--seed S]
import { createReadStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const positional = [];
const opts = { sentences: 3, keep: 0.1, seed: 42 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a.startsWith('--')) {
    const key = a.slice(2);
    const value = Number(args[++i]);
    if (!(key in opts) || !Number.isFinite(value) || value < 0) fail(`${a}: expected one of --sentences N, --keep P, --seed S with a number >= 0`);
    opts[key] = value;
  } else positional.push(a);
}
if (positional.length !== 2) fail('usage: node scripts/pseudo-queries.mjs CORPUS.jsonl OUT_DIR [--sentences N] [--keep P] [--seed S]');
if (!Number.isInteger(opts.sentences) || opts.sentences > 50) fail(`--sentences: expected an integer 0..50, got ${opts.sentences}`);
if (opts.keep > 1) fail(`--keep: expected a probability 0..1, got ${opts.keep}`);
const [corpusFile, outDir] = positional;

function fail(message) {
  process.stderr.write(`pseudo-queries: error: ${message}\n`);
  process.exit(2);
}

// mulberry32: a small seeded generator, so the pairs do not depend on Math.random.
let state = opts.seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Tabs and newlines would break the TSV files; every other character is kept. */
const clean = (s) => s.replace(/\s+/g, ' ').trim();
/** Sentence ends: . ! ? followed by a space and an upper-case letter or digit (abstracts join sentences with one space). */
const sentencesOf = (text) => text.split(/(?<=[.!?])\s+(?=[A-Z0-9])/).map(clean).filter((s) => s.length > 0);

const queries = [];
const passages = [];
const qrels = [];
let docs = 0;
let lineNo = 0;
const lines = createInterface({ input: createReadStream(corpusFile), crlfDelay: Infinity });
try {
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let doc;
    try {
      doc = JSON.parse(line);
    } catch {
      fail(`${corpusFile}:${lineNo}: not a JSON object`);
    }
    if (typeof doc?._id !== 'string' || doc._id === '' || /\s/.test(doc._id) || typeof doc.text !== 'string') {
      fail(`${corpusFile}:${lineNo}: expected {"_id": "ID without spaces", "title": "...", "text": "..."}`);
    }
    docs++;
    const id = doc._id;
    const title = clean(typeof doc.title === 'string' ? doc.title : '');
    const text = clean(doc.text);
    const pair = (query, passage, k) => {
      const qid = `${id}#${k}`;
      queries.push(`${qid}\t${query}`);
      passages.push(`${qid}\t${passage}`);
      qrels.push(`${qid} 0 ${qid} 1`);
    };
    if (title !== '' && text !== '') pair(title, text, 't');
    const sentences = sentencesOf(text);
    if (sentences.length < 3) continue; // a passage of one or two sentences has too little context left
    const order = sentences.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const s of order.slice(0, opts.sentences)) {
      const keep = random() < opts.keep;
      const context = keep ? sentences : sentences.filter((_, i) => i !== s);
      pair(sentences[s], (title ? title + ' ' : '') + context.join(' '), `s${s}`);
    }
  }
} catch (e) {
  fail(`${corpusFile}: ${e.code === 'ENOENT' ? 'missing' : e.message}`);
}
if (docs === 0) fail(`${corpusFile}: no documents`);

mkdirSync(outDir, { recursive: true });
for (const [name, rows] of [['queries.tsv', queries], ['collection.tsv', passages], ['qrels.trec', qrels]]) {
  const tmp = join(outDir, `.${name}.tmp-${process.pid}`);
  writeFileSync(tmp, rows.join('\n') + '\n');
  renameSync(tmp, join(outDir, name));
}
process.stderr.write(`pseudo-queries: ${docs} documents -> ${queries.length} query/passage pairs in ${outDir}\n`);
