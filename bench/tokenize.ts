/**
 * Tokenizer throughput on SciFact's corpus (5,183 abstracts, title + " " + text as the encoder sees
 * passages): characters and tokens per second for each loader, no truncation, one core.
 * Run: npx tsc -p tsconfig.json && node dist/bench/tokenize.js [--limit N]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizerAs, prepareText, type TokenizerFormat } from '../src/text/index.js';

function repoRoot(): string {
  let dir = resolve(fileURLToPath(import.meta.url), '..');
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'densekit') return dir;
    } catch { /* keep walking up */ }
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('densekit repo root not found');
    dir = up;
  }
}

const shared = resolve(repoRoot(), '../shared');
const limitArg = process.argv.indexOf('--limit');
const limit = limitArg > 0 ? Number(process.argv[limitArg + 1]) : Infinity;
const texts = readFileSync(join(shared, 'datasets/scifact/corpus.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim()).slice(0, limit)
  .map((l) => { const o = JSON.parse(l) as { title?: string; text: string }; return prepareText(`${o.title ?? ''} ${o.text}`, { strip: true, lowercase: false }); });
const chars = texts.reduce((n, t) => n + t.length, 0);

const cases: [string, string, TokenizerFormat][] = [
  ['bert-base-uncased', 'fixtures/tokenizers/bert-base-uncased', 'vocab.txt'],
  ['bert-base-uncased', 'fixtures/tokenizers/bert-base-uncased', 'tokenizer.json'],
  ['legal-t5-32k (T5 unigram)', 'fixtures/tokenizers/legal-t5-32k', 'spiece.model'],
  ['legal-t5-32k (T5 unigram)', 'fixtures/tokenizers/legal-t5-32k', 'tokenizer.json'],
];
console.log(`SciFact corpus: ${texts.length} passages, ${(chars / 1e6).toFixed(2)}M chars`);
for (const [name, dir, format] of cases) {
  const tok = loadTokenizerAs(join(shared, dir), format);
  tok.encodeBatch(texts.slice(0, 200)); // warm up the JIT (word caches stay: they are part of steady state)
  let best = Infinity;
  let tokens = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = process.hrtime.bigint();
    tokens = 0;
    for (const t of texts) tokens += tok.encode(t).ids.length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  console.log(`${name.padEnd(28)} ${format.padEnd(15)} ${(chars / best / 1e6).toFixed(2)}M chars/s  ${(tokens / best / 1e6).toFixed(2)}M tokens/s  (${tokens} tokens, best of 3: ${best.toFixed(2)} s)`);
}
