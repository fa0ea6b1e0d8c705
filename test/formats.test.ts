/**
 * src/formats: every reader's rules (strict UTF-8 with the line of a bad byte, the BOM rule, the run-id rule,
 * duplicates naming both lines, empty files), the qrels / run / BEIR / TSV / shard readers and writers, and the
 * one-line errors for bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, msmarcoMrr, renderTrecEval } from '../src/eval/index.js';
import {
  readBeirCorpus, readBeirQrels, readBeirQueries, readEmbeddings, readQrels, readQueries, readRun, readTextMap, readTextRecords,
  recordText, writeManifest, writeRun, writeShard, type EmbeddingManifest,
} from '../src/formats/index.js';
import { InputError } from '../src/errors.js';
import { datasetsDir, fixturesDir, readJson } from './helpers.js';
import { runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-eval-'));
const write = (name: string, text: string | Buffer) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const bad = (before: string, after: string) => Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28]), Buffer.from(after)]);
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const scifactQrels = join(datasetsDir, 'scifact', 'qrels.test.trec');
const scifactRun = join(fixturesDir, 'metrics', 'scifact', 'run.trec');
const surface = join(fixturesDir, 'metrics', 'surface');
const measures = ['ndcg_cut.10,100', 'map', 'recall.10,100', 'recip_rank', 'P.10', 'bpref'];

test('BEIR qrels tsv (with header) evaluates exactly like the TREC qrels of the same collection', async () => {
  const run = await readRun(scifactRun);
  const fromTrec = renderTrecEval(evaluate(await readQrels(scifactQrels), run, { measures }), { perQuery: true });
  const fromBeir = renderTrecEval(evaluate(await readBeirQrels(join(datasetsDir, 'scifact')), run, { measures }), { perQuery: true });
  assert.equal(fromBeir, fromTrec);
});

test('writeRun round-trips TREC and MS MARCO runs without changing the ranking', async () => {
  const qrels = await readQrels(scifactQrels);
  const run = await readRun(scifactRun);
  const expected = renderTrecEval(evaluate(qrels, run, { measures }), { perQuery: true });
  for (const format of ['trec', 'msmarco'] as const) {
    const path = join(tmp, `roundtrip.${format}`);
    await writeRun(path, run, { format, tag: 'synthetic' });
    const again = await readRun(path);
    assert.equal(renderTrecEval(evaluate(qrels, again, { measures }), { perQuery: true }), expected, format);
  }
  const msmarcoLine = readFileSync(join(tmp, 'roundtrip.msmarco'), 'utf8').split('\n')[0]!;
  assert.match(msmarcoLine, /^\S+\t\S+\t1$/);
});

test('BEIR corpus is streamed with line numbers; queries are read whole', async () => {
  const manifest = readJson<Record<string, unknown>>(join(datasetsDir, 'MANIFEST.json'));
  let docs = 0;
  let last = 0;
  for await (const d of readBeirCorpus(join(datasetsDir, 'scifact', 'corpus.jsonl'))) {
    assert.equal(typeof d.id, 'string');
    assert.equal(typeof d.text, 'string');
    assert.ok(d.line > last);
    last = d.line;
    docs++;
  }
  const queries = await readBeirQueries(join(datasetsDir, 'scifact', 'queries.jsonl'));
  const text = JSON.stringify(manifest);
  assert.ok(text.includes(String(docs)), `corpus count ${docs} appears in MANIFEST.json`);
  assert.ok(queries.length > 0 && text.includes(String(queries.length)), `query count ${queries.length} appears in MANIFEST.json`);
});

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.match((e as Error).message, pattern);
    assert.ok(!(e as Error).message.includes('\n'));
    return true;
  });
}

test('bad qrels: one error naming file and line', async () => {
  await rejects(readQrels(write('cols.qrels', '1 0 d1 1\n1 0 d2\n')), /cols\.qrels:2: expected 4 columns/);
  await rejects(readQrels(write('grade.qrels', '1 0 d1 1\n1 0 d2 high\n')), /grade\.qrels:2: relevance grade must be an integer, got "high"/);
  await rejects(readQrels(write('frac.qrels', '1 0 d1 0.5\n')), /frac\.qrels:1: relevance grade must be an integer/);
  await rejects(readQrels(write('dup.qrels', '1 0 d1 1\n2 0 d1 1\n1 0 d1 0\n')), /dup\.qrels:3: duplicate judgment for query "1", document "d1"/);
  await rejects(readQrels(write('empty.qrels', '')), /empty\.qrels: has no judgments/);
  await rejects(readQrels(join(tmp, 'missing.qrels')), /missing\.qrels: no such file/);
  await rejects(readQrels(write('beir.tsv', 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\n')), /beir\.tsv:3: expected 3 tab-separated columns/);
});

test('bad runs: one error naming file and line', async () => {
  await rejects(readRun(write('cols.run', '1 Q0 d1 1 2.5 t\n1 Q0 d2 2 t\n')), /cols\.run:2: expected 6 columns/);
  await rejects(readRun(write('ctl.run', '1 Q0 d1 1 2.5 t\n1 Q0 d\u00012 2 1.5 t\n')), /ctl\.run:2: document id "d\\u00012" contains U\+0001/);
  await rejects(readRun(write('mixed.run', 'q1\td1\t1\nq1 Q0 d2 2 1.5 t\n')), /mixed\.run:2: expected 3 columns "qid docid rank", got 6/);
  await rejects(readRun(write('score.run', '1 Q0 d1 1 2.5 t\n1 Q0 d2 2 abc t\n')), /score\.run:2: score must be a number, got "abc"/);
  await rejects(readRun(write('dup.run', '1 Q0 d1 1 2.5 t\n1 Q0 d1 2 1.5 t\n')), /dup\.run:2: duplicate document "d1" for query "1"/);
  await rejects(readRun(write('empty.run', '\n\n')), /empty\.run: has no results/);
  await rejects(readRun(write('rank.tsv', 'q1\td1\t1\nq1\td2\tx\n')), /rank\.tsv:2: rank must be a positive integer/);
  await rejects(readRun(write('five.run', '1 Q0 d1 1 2.5\n')), /five\.run:1: expected a TREC run .* or an MS MARCO run/);
});

test('CLI: run queries absent from the qrels are reported with their count and the rest is evaluated', () => {
  const extra = readFileSync(scifactRun, 'utf8') + 'no-such-query Q0 d1 1 3.0 synthetic\nother-missing Q0 d1 1 3.0 synthetic\n';
  const runPath = write('extra.run', extra);
  const r = runCli(['eval', '-m', 'map', '-m', 'num_q', scifactQrels, runPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*extra\.run: 2 of 302 queries have no judgments/);
  const plain = runCli(['eval', '-m', 'map', '-m', 'num_q', scifactQrels, scifactRun]);
  assert.equal(r.stdout, plain.stdout);
});

test('CLI: a bad file is one error line and exit code 1', () => {
  const r = runCli(['eval', scifactQrels, write('bad.run', '1 Q0 d1 1 nope t\n')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^densekit: error: .*bad\.run:1: score must be a number, got "nope"\n$/);
  const m = runCli(['eval', '-m', 'not_a_measure', scifactQrels, scifactRun]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /unknown measure "not_a_measure"/);
});

// ---- the rules every reader shares ----

test('bad UTF-8: every reader names the file and the line of the bad byte', async () => {
  await rejects(collect(readBeirCorpus(write('bad-utf8.jsonl', bad('{"_id":"a","text":"ok"}\n{"_id":"b","text":"', '"}\n')))), /bad-utf8\.jsonl:2: not valid UTF-8/);
  await rejects(readBeirQueries(write('bad-utf8-q.jsonl', bad('\n\n{"_id":"q","text":"', '"}\n'))), /bad-utf8-q\.jsonl:3: not valid UTF-8/);
  await rejects(readTextMap(write('bad-utf8.tsv', bad('p1\tfine\np2\t', '\n'))), /bad-utf8\.tsv:2: not valid UTF-8/);
  await rejects(readQrels(write('bad-utf8.qrels', bad('1 0 d1 1\n1 0 d', ' 1\n'))), /bad-utf8\.qrels:2: not valid UTF-8/);
  await rejects(readRun(write('bad-utf8.run', bad('1 Q0 d1 1 2.5 t\n1 Q0 d', ' 2 1.5 t\n'))), /bad-utf8\.run:2: not valid UTF-8/);
});

test('BOM: accepted and dropped at the start of a file, by every reader; anywhere else U+FEFF is text', async () => {
  const docs = await collect(readBeirCorpus(write('bom.jsonl', Buffer.concat([BOM, Buffer.from('{"_id":"a","text":"x"}\n')]))));
  assert.deepEqual(docs.map((d) => d.id), ['a']);
  const tsv = await readTextMap(write('bom.tsv', Buffer.concat([BOM, Buffer.from('p1\tone\n')])));
  assert.deepEqual([...tsv.keys()], ['p1']);
  const qrels = await readQrels(write('bom.qrels', Buffer.concat([BOM, Buffer.from('q1 0 d1 1\n')])));
  assert.deepEqual([...qrels.keys()], ['q1']);
  const beirQrels = await readQrels(write('bom-qrels.tsv', Buffer.concat([BOM, Buffer.from('query-id\tcorpus-id\tscore\nq1\td1\t1\n')])));
  assert.deepEqual([...beirQrels.get('q1')!], [['d1', 1]]);
  const run = await readRun(write('bom.run', Buffer.concat([BOM, Buffer.from('q1 Q0 d1 1 2.5 t\n')])));
  assert.deepEqual([...run.queries.keys()], ['q1']);
  // A BOM alone is an empty file; a U+FEFF starting a later line is part of that line (and not a valid id).
  await rejects(readTextMap(write('only-bom.tsv', BOM)), /only-bom\.tsv: has no records/);
  await rejects(readTextMap(write('mid-bom.tsv', Buffer.concat([Buffer.from('p1\tone\n'), BOM, Buffer.from('p2\ttwo\n')]))), /mid-bom\.tsv:2: id "\ufeffp2" contains U\+FEFF/);
});

test('ids a run cannot hold are refused when READ, naming file and line', async () => {
  await rejects(collect(readBeirCorpus(write('space.jsonl', '{"_id":"a","text":"x"}\n{"_id":"b c","text":"y"}\n'))), /space\.jsonl:2: field "_id" "b c" contains a space \(a run file cannot hold it\)/);
  await rejects(collect(readBeirCorpus(write('empty-id.jsonl', '{"_id":"","text":"y"}\n'))), /empty-id\.jsonl:1: field "_id" "" is empty/);
  await rejects(collect(readBeirCorpus(write('nl-id.jsonl', '{"_id":"a\\nb","text":"y"}\n'))), /nl-id\.jsonl:1: field "_id" "a\\nb" contains U\+000A/);
  await rejects(collect(readBeirCorpus(write('nbsp-id.jsonl', '{"_id":"a\u00a0b","text":"y"}\n'))), /nbsp-id\.jsonl:1: .* contains U\+00A0/);
  await rejects(collect(readBeirCorpus(write('surrogate-id.jsonl', '{"_id":"a\\ud800","text":"y"}\n'))), /surrogate-id\.jsonl:1: .* contains a lone surrogate/);
  // The same rule in the TSV reader that encode and search share (they used to disagree on spaces).
  await rejects(readQueries(write('queries-space.tsv', 'q1\tfine\nq 2\tspaced id\n')), /queries-space\.tsv:2: id "q 2" contains a space/);
  await rejects(collect(readTextRecords(write('collection-tab0.tsv', '\tno id\n'))), /collection-tab0\.tsv:1: id "" is empty/);
  await rejects(readQrels(write('ctl.qrels', 'q1 0 d\u00071 1\n')), /ctl\.qrels:1: document id "d\\u00071" contains U\+0007/);
  await rejects(readQrels(write('space-qrels.tsv', 'query-id\tcorpus-id\tscore\nq 1\td1\t1\n')), /space-qrels\.tsv:2: query id "q 1" contains a space/);
  // An emoji (a surrogate pair) is a fine id.
  assert.deepEqual((await collect(readBeirCorpus(write('emoji.jsonl', '{"_id":"doc-\u{1F600}","text":"y"}\n')))).map((d) => d.id), ['doc-\u{1F600}']);
});

test('non-string _id: refused with the line; a number says it is one (1e400 would silently become "Infinity")', async () => {
  await rejects(collect(readBeirCorpus(write('inf-id.jsonl', '{"_id":"a","text":"x"}\n{"_id":1e400,"text":"y"}\n'))), /inf-id\.jsonl:2: field "_id" is the number Infinity, expected a string/);
  await rejects(readBeirQueries(write('num-id.jsonl', '{"_id":42,"text":"y"}\n')), /num-id\.jsonl:1: field "_id" is the number 42, expected a string/);
  await rejects(collect(readBeirCorpus(write('obj-id.jsonl', '{"_id":{"x":1},"text":"y"}\n'))), /obj-id\.jsonl:1: field "_id" must be a string/);
  await rejects(collect(readBeirCorpus(write('no-id.jsonl', '{"text":"y"}\n'))), /no-id\.jsonl:1: missing field "_id"/);
});

test('duplicate ids: refused naming both lines, in corpus, queries and TSV alike', async () => {
  await rejects(collect(readBeirCorpus(write('dup.jsonl', '{"_id":"a","text":"x"}\n\n{"_id":"b","text":"y"}\n{"_id":"a","text":"z"}\n'))), /dup\.jsonl:4: duplicate id "a" \(first at line 1\)/);
  await rejects(readBeirQueries(write('dup-q.jsonl', '{"_id":"q","text":"x"}\n{"_id":"q","text":"y"}\n')), /dup-q\.jsonl:2: duplicate id "q" \(first at line 1\)/);
  await rejects(readQueries(write('dup.tsv', 'q1\ta\nq2\tb\nq1\tc\n')), /dup\.tsv:3: duplicate id "q1" \(first at line 1\)/);
  // Also among lines a training run does not keep.
  await rejects(readTextMap(write('dup-unneeded.tsv', 'p1\ta\np9\tb\np9\tc\n'), { needed: new Set(['p1']) }), /dup-unneeded\.tsv:3: duplicate id "p9"/);
});

test('an empty corpus, query or TSV file is refused (blank lines do not count)', async () => {
  await rejects(collect(readBeirCorpus(write('empty.jsonl', ''))), /empty\.jsonl: has no records/);
  await rejects(readBeirQueries(write('blank.jsonl', '\n  \n\n')), /blank\.jsonl: has no records/);
  await rejects(readQueries(write('empty.tsv', '\n')), /empty\.tsv: has no records/);
  await rejects(collect(readBeirCorpus(join(tmp, 'absent.jsonl'))), /absent\.jsonl: no such file/);
});

test('CLI: BM25 indexing names the bad byte, the spaced id and the empty corpus instead of indexing them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'densekit-formats-cli-'));
  const cases: [string, Buffer | string, RegExp][] = [
    ['bytes.jsonl', bad('{"_id":"a","text":"ok"}\n{"_id":"b","text":"caf', '"}\n'), /bytes\.jsonl:2: not valid UTF-8/],
    ['spaced.jsonl', '{"_id":"a","text":"ok"}\n{"_id":"b 2","text":"x"}\n', /spaced\.jsonl:2: field "_id" "b 2" contains a space/],
    ['none.jsonl', '', /none\.jsonl: has no records/],
  ];
  for (const [name, content, re] of cases) {
    writeFileSync(join(dir, name), content);
    const r = runCli(['index', '--type', 'bm25', '--input', join(dir, name), '--output', join(dir, `idx-${name}`)]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^densekit: error: /);
  }
});

// ---- BEIR JSON lines and id<TAB>text ----

test('BEIR records: title and text joined in one place; extra fields kept as metadata', async () => {
  const path = write('meta.jsonl', [
    '{"_id":"d1","title":"T","text":"body","metadata":{"url":"u1"},"year":2020}',
    '{"_id":"d2","title":"","text":"only"}',
    '{"_id":"d3","text":"no title","title":null}',
  ].join('\n') + '\n');
  const docs = await collect(readBeirCorpus(path));
  assert.deepEqual(docs.map((d) => [d.id, d.title, d.text, d.line]), [['d1', 'T', 'body', 1], ['d2', '', 'only', 2], ['d3', '', 'no title', 3]]);
  assert.deepEqual(docs[0]!.metadata, { url: 'u1', year: 2020 });
  assert.deepEqual(docs[1]!.metadata, {});
  assert.deepEqual(docs.map(recordText), ['T body', 'only', 'no title']);
  assert.deepEqual(Object.fromEntries(await readTextMap(path)), { d1: 'T body', d2: 'only', d3: 'no title' });
  await rejects(collect(readBeirCorpus(write('title-num.jsonl', '{"_id":"d","title":3,"text":"x"}\n'))), /title-num\.jsonl:1: field "title" must be a string/);
  await rejects(readTextMap(write('bad.jsonl', '{"_id":"d1","text":"x"}\n{oops\n')), /bad\.jsonl:2: not valid JSON/);
});

test('id<TAB>text: the second column is the text (later columns are not), CRLF endings dropped', async () => {
  const texts = await readTextMap(write('collection.tsv', 'p1\ttext one\tsource-a\r\np2\ttext two\r\n\np3\t\n'));
  assert.deepEqual(Object.fromEntries(texts), { p1: 'text one', p2: 'text two', p3: '' });
  await rejects(readTextMap(write('notab.tsv', 'p1 text\n')), /notab\.tsv:1: expected "id<TAB>text"/);
  const queries = await readQueries(write('queries.dev.tsv', '1048585\twhat is paula deen\'s brother\n'));
  assert.deepEqual(queries, [{ id: '1048585', text: "what is paula deen's brother" }]);
});

// ---- runs ----

test('TREC run: every field after the tag is ignored, as trec_eval does (its own output on such a run)', async () => {
  // trec_eval prints the same for the run with extra columns as for the plain run ...
  assert.equal(readFileSync(join(surface, 'scifact.extra-columns.txt'), 'utf8'), readFileSync(join(surface, 'scifact.all_trec-q.txt'), 'utf8'));
  assert.match(readFileSync(join(surface, 'scifact.extra-columns.cmd'), 'utf8'), /-q -m all_trec \S*qrels\.test\.trec \S*run-extra-columns\.trec/);
  // ... and so does densekit: the extra-columns run scores byte for byte as trec_eval scores the plain one.
  const run = await readRun(join(surface, 'scifact.run-extra-columns.trec'));
  assert.equal(run.runId, 'synthetic');
  const reference = readJson<{ command: string }>(join(fixturesDir, 'metrics', 'scifact', 'trec_eval.json'));
  const args = reference.command.split(/\s+/);
  const referenceMeasures = args.flatMap((a, i) => (a === '-m' ? [args[i + 1]!] : []));
  const out = renderTrecEval(evaluate(await readQrels(scifactQrels), run, { measures: referenceMeasures }), { perQuery: true });
  assert.equal(out, readFileSync(join(fixturesDir, 'metrics', 'scifact', 'trec_eval.txt'), 'utf8'));
});

test('MS MARCO run: qid<TAB>pid<TAB>rank read in rank order (score = -rank), written back identically', async () => {
  const path = write('run.msmarco.tsv', 'q1\td3\t1\nq1\td1\t2\nq1\td2\t3\nq2\td9\t1\n');
  const run = await readRun(path);
  assert.equal(run.runId, 'run.msmarco.tsv');
  assert.deepEqual(run.queries.get('q1'), [{ id: 'd3', score: -1, rank: 1 }, { id: 'd1', score: -2, rank: 2 }, { id: 'd2', score: -3, rank: 3 }]);
  const qrels = await readQrels(write('mm.qrels', 'q1 0 d1 1\nq2 0 d9 1\nq3 0 d5 1\n'));
  // ms_marco_eval.py: q1 finds its relevant passage at rank 2, q2 at rank 1, q3 (not in the run) counts 0.
  assert.equal(msmarcoMrr(qrels, run).mrr, (1 / 2 + 1) / 3);
  const again = join(tmp, 'again.msmarco.tsv');
  await writeRun(again, run, { format: 'msmarco' });
  assert.equal(readFileSync(again, 'utf8'), readFileSync(path, 'utf8'));
  await rejects(readRun(write('rank0.tsv', 'q1\td1\t0\n')), /rank0\.tsv:1: rank must be a positive integer, got "0"/);
  await rejects(readRun(write('dup.msmarco', 'q1\td1\t1\nq1\td1\t2\n')), /dup\.msmarco:2: duplicate document "d1" for query "q1"/);
});

test('writing a run refuses ids it cannot hold, in one line', async () => {
  await rejects(writeRun(join(tmp, 'w.run'), new Map([['q 1', [{ id: 'd1', score: 1 }]]])), /w\.run: cannot write query id "q 1": it contains a space/);
  await rejects(writeRun(join(tmp, 'w.run'), new Map([['q1', [{ id: '', score: 1 }]]])), /w\.run: cannot write document id "": it is empty/);
  await rejects(writeRun(join(tmp, 'w.run'), new Map([['q1', [{ id: 'd', score: 1 }]]]), { tag: 'two words' }), /cannot write run tag "two words"/);
});

// ---- embedding shards ----

test('embedding shards: ids follow the same rule when written and when read back (an empty line names its line)', async () => {
  const dir = join(tmp, 'emb');
  mkdirSync(dir, { recursive: true });
  assert.throws(() => writeShard(dir, 0, ['a', 'b c'], new Float32Array(4), 2), (e: unknown) => e instanceof InputError && /cannot write id "b c": it contains a space/.test((e as Error).message));
  const shard = writeShard(dir, 0, ['a', 'b'], new Float32Array([1, 0, 0, 1]), 2);
  const manifest: EmbeddingManifest = {
    format: 'densekit-embeddings', version: 1, model: 'm', kind: 'passage', dim: 2, dtype: 'float32', similarity: 'dot',
    input: 'x', total: 2, shardSize: 2, shards: [shard], truncated: { count: 0, maxLength: 8 }, complete: true,
  };
  writeManifest(dir, manifest);
  assert.deepEqual(readEmbeddings(dir).ids, ['a', 'b']);
  writeFileSync(join(dir, shard.ids), 'a\n\n');
  assert.throws(() => readEmbeddings(dir), (e: unknown) => e instanceof InputError && /shard-00000\.ids\.txt:2: id "" is empty/.test((e as Error).message));
  writeFileSync(join(dir, shard.ids), bad('a\nb', '\n'));
  assert.throws(() => readEmbeddings(dir), (e: unknown) => e instanceof InputError && /shard-00000\.ids\.txt:2: not valid UTF-8/.test((e as Error).message));
});
