/**
 * `densekit export-web` end to end in headless Chromium (Debian's /usr/bin/chromium, as serve.browser.test.ts):
 * 300 SciFact passages encoded in fp32 by the tiny TAS-B fixture into a flat index, the model exported to ONNX by
 * `densekit export` (fp32 and --quantize int8), a site written for each, served from a 127.0.0.1 static server
 * started here. Queries are typed into the page and its top 10 compared with references the page's code has no
 * part in:
 * - fp32: `densekit search` (libtorch encoder, exact float32 scan) on the same index: same ids in the same order,
 *   scores within 1e-5 relative (onnxruntime-web's wasm kernels against libtorch's);
 * - int8: the same int8 model.onnx run by onnxruntime-node, its vector searched by densekit's FlatIndex: top hit
 *   equal and at least 9 of the 10 ids shared (the wasm and native int8 kernels round activations differently);
 * - token ids: `densekit tokenize` on hard strings (accents, combining marks, CJK, emoji, long words, special
 *   tokens, truncation) equal the page's ids exactly.
 * Plus the refusals: in the page, a model whose identity is not the index's, a changed file, a file:// URL; on the
 * command line (one line each), another model's index, a missing file, a collection too big for a tab.
 * Screenshots at 390 px and 1280 px are kept in test-artifacts/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openEncoder, runEncodeJob } from '../src/encode/index.js';
import { buildFlatIndex, FlatIndex } from '../src/retrieval/index.js';
import { runCli } from './cli.js';
import { fixturesDir, repoRoot } from './helpers.js';
import { serveStatic } from './static-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MODEL = join(fixturesDir, 'models/tasb-distilbert-tiny');
const SCIFACT = join(repoRoot, 'data/scifact');
const DOCS = 300;
const QUERIES = 8;

const jsonl = (path: string): Record<string, unknown>[] => readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);

/** Top-10 ids per query of a TREC run file, in rank order. */
function readRunIds(path: string): Map<string, { id: string; score: number }[]> {
  const out = new Map<string, { id: string; score: number }[]>();
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
    const [qid, , doc, rank, score] = line.split(/\s+/);
    const list = out.get(qid!) ?? [];
    list[Number(rank) - 1] = { id: doc!, score: Number(score) };
    out.set(qid!, list);
  }
  return out;
}

function cli(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.code, 0, `densekit ${args[0]}: ${r.stderr}`);
  return r.stdout;
}

/** One line on stderr, `densekit: error: ...`, matching every pattern, and a non-zero exit. */
function refused(args: string[], ...patterns: RegExp[]): void {
  const r = runCli(args);
  assert.notEqual(r.code, 0, `densekit ${args.join(' ')} should fail`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${r.stderr}`);
  assert.match(lines[0]!, /^densekit: error: /);
  for (const p of patterns) assert.match(lines[0]!, p);
}

async function search(page: Page, text: string): Promise<{ id: string; score: number }[]> {
  const before = Number((await page.getAttribute('body', 'data-searched')) ?? '0');
  await page.fill('#q', text);
  await page.press('#q', 'Enter');
  await page.waitForSelector(`body[data-searched="${before + 1}"]`);
  return page.$$eval('#results li.hit', (items) => items.map((li) => ({ id: (li as HTMLElement).dataset.id!, score: Number((li as HTMLElement).dataset.score) })));
}

/** Rewrites a site file and its manifest entry (as someone swapping files by hand would, checksums included). */
function replaceSiteFile(site: string, path: string, body: string | Uint8Array): void {
  writeFileSync(join(site, path), body);
  const manifest = JSON.parse(readFileSync(join(site, 'manifest.json'), 'utf8')) as { files: { path: string; bytes: number; sha256: string }[] };
  const entry = manifest.files.find((f) => f.path === path)!;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  entry.bytes = bytes.byteLength;
  entry.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(site, 'manifest.json'), JSON.stringify(manifest));
}

/** Strings tokenizers get wrong: accents (composed and combining), casing rules, CJK, scripts, emoji, a word past
 * WordPiece's 100 characters, punctuation, odd whitespace, special-token strings, and a text past the length limit. */
const HARD = [
  'Café naïve résumé Ångström façade', 'e\u0301cole cafe\u0301 n\u0303', 'ΟΔΟΣ ΣΊΣΥΦΟΣ', 'İstanbul ǅemal straße',
  '東京大学の研究者が新しい遺伝子を発見した', '한국어 텍스트와 中文混合 text', 'تحليل البيانات', 'emoji 👩‍🔬🧬🦠 and 🇪🇺 flags',
  'pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(3), 'don\'t—stop… «quoted» (p<0.05) 46±11 kg/m²',
  '  leading and trailing spaces\u3000', 'zero\u200bwidth\u00adsoft hyphen', '[CLS] literal [SEP] and [MASK] tokens </s> <extra_id_3>', 'ﬁ ligature ① ＦＵＬＬＷＩＤＴＨ ½ ™',
  Array.from({ length: 200 }, (_, i) => `word${i}`).join(' '),
];

/** `densekit tokenize --kind query` of HARD: the reference ids, from the Node side. */
function referenceIds(model: string, work: string): number[][] {
  const file = join(work, 'hard.jsonl');
  writeFileSync(file, HARD.map((text, i) => JSON.stringify({ _id: `h${i}`, text })).join('\n') + '\n');
  return cli(['tokenize', '--model', model, '--kind', 'query', '--input', file]).trim().split('\n').map((l) => (JSON.parse(l) as { ids: number[] }).ids);
}

async function pageIds(page: Page): Promise<number[][]> {
  return page.evaluate((texts) => texts.map((x) => (window as unknown as { densekit: { queryIds(t: string): number[] } }).densekit.queryIds(x)), HARD);
}

const skip = !existsSync(CHROMIUM) ? `no browser at ${CHROMIUM}` : false;

test('export-web: the page searches as densekit search does, in headless Chromium', { skip, timeout: 600_000 }, async (t) => {
  const started = performance.now();
  const lap = (what: string) => t.diagnostic(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const work = mkdtempSync(join(tmpdir(), 'densekit-web-export-'));
  let browser: Browser | undefined;
  let server: Awaited<ReturnType<typeof serveStatic>> | undefined;
  try {
    const corpus = join(work, 'corpus.jsonl');
    writeFileSync(corpus, readFileSync(join(SCIFACT, 'corpus.jsonl'), 'utf8').split('\n').slice(0, DOCS).join('\n') + '\n');
    const queries = jsonl(join(SCIFACT, 'queries.jsonl')).slice(0, QUERIES).map((q) => ({ id: String(q._id), text: String(q.text) }));
    writeFileSync(join(work, 'queries.jsonl'), queries.map((q) => JSON.stringify({ _id: q.id, text: q.text })).join('\n') + '\n');
    const encoder = await openEncoder(MODEL, { dtype: 'fp32', batchSize: 64 });
    try {
      await runEncodeJob({ encoder, input: corpus, output: join(work, 'emb'), kind: 'passage' });
    } finally {
      encoder.close();
    }
    const flat = join(work, 'flat');
    buildFlatIndex(join(work, 'emb'), flat);
    cli(['search', '--index', flat, '--model', MODEL, '--dtype', 'fp32', '--queries', join(work, 'queries.jsonl'), '--k', '10', '--output', join(work, 'run.trec')]);
    const expected = readRunIds(join(work, 'run.trec'));
    cli(['export', '--model', MODEL, '--format', 'onnx', '--output', join(work, 'onnx-fp32')]);
    cli(['export', '--model', MODEL, '--format', 'onnx', '--quantize', 'int8', '--output', join(work, 'onnx-int8')]);
    for (const q of ['fp32', 'int8']) {
      const out = cli(['export-web', '--index', flat, '--model', join(work, `onnx-${q}`), '--corpus', corpus, '--title', 'SciFact sample', '--output', join(work, `site-${q}`)]);
      assert.match(out, new RegExp(`^site written to .*site-${q}: 300 x 64 dot vectors \\(int8 \\+ float32 rescoring\\), ${q} model`));
    }
    lap('index, exports and sites written');

    server = await serveStatic(work);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const offsite: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith(server!.url) && !r.url().startsWith('data:')) offsite.push(r.url()); });

    // fp32: the ranking of `densekit search`, query by query.
    await page.goto(`${server.url}site-fp32/`);
    await page.waitForSelector('body[data-ready="true"]');
    assert.match((await page.textContent('#status'))!, /^Model loaded \(fp32, onnxruntime-web wasm, 1 thread\); 300 documents\./);
    lap('fp32 page ready');
    const titles = new Map(jsonl(corpus).map((d) => [String(d._id), String(d.title)]));
    const perQuery: number[] = [];
    for (const q of queries) {
      const shown = await search(page, q.text);
      const want = expected.get(q.id)!;
      assert.deepEqual(shown.map((h) => h.id), want.map((h) => h.id), `query ${q.id}: the page's top 10 are densekit search's`);
      shown.forEach((h, i) => assert.ok(Math.abs(h.score - want[i]!.score) <= 1e-5 * Math.max(1, Math.abs(want[i]!.score)), `query ${q.id} rank ${i + 1}: score ${h.score} vs ${want[i]!.score}`));
      const first = await page.textContent('#results li.hit .hit-title');
      assert.equal(first, titles.get(shown[0]!.id), 'titles come from the corpus');
      perQuery.push(Number(/ in (\d+) ms/.exec((await page.textContent('#status'))!)![1]));
    }
    t.diagnostic(`fp32 page: ms per query ${perQuery.join(', ')}`);

    // Token ids: the page's tokenizer is densekit's, bundled; `densekit tokenize` is the reference.
    const reference = referenceIds(MODEL, work);
    const inPage = await pageIds(page);
    HARD.forEach((text, i) => assert.deepEqual(inPage[i], reference[i], `token ids of ${JSON.stringify(text.slice(0, 40))}`));
    assert.ok(reference.some((ids) => ids.length === 64), 'one string reaches the query length limit (truncation checked)');

    // Screenshots: desktop, then the narrow phone width the page must work at.
    mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-artifacts/web-export-1280.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'no horizontal scrolling at 390 px');
    await page.screenshot({ path: join(repoRoot, 'test-artifacts/web-export-390.png') });
    await page.setViewportSize({ width: 1280, height: 900 });

    // int8: onnxruntime-node runs the same model.onnx; its vector is searched by densekit's own flat index.
    await t.test('int8 model: the page against onnxruntime-node', async (t) => {
      const ort = await import('onnxruntime-node');
      const session = await ort.InferenceSession.create(join(work, 'site-int8/model/model.onnx'));
      const index = await FlatIndex.open(flat);
      const queryIds = cli(['tokenize', '--model', MODEL, '--kind', 'query', '--input', join(work, 'queries.jsonl')]).trim().split('\n').map((l) => (JSON.parse(l) as { ids: number[] }).ids);
      await page.goto(`${server!.url}site-int8/`);
      await page.waitForSelector('body[data-ready="true"]');
      assert.match((await page.textContent('#status'))!, /^Model loaded \(int8, /);
      let shared = 0;
      for (const [qi, q] of queries.entries()) {
        const ids = queryIds[qi]!;
        const shape = [1, ids.length];
        const r = await session.run({
          input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), shape),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
        });
        const want = index.search(Float32Array.from(r.sentence_embedding!.data as Float32Array), 10)[0]!.map((h) => h.id);
        const shown = (await search(page, q.text)).map((h) => h.id);
        assert.equal(shown[0], want[0], `query ${q.id}: int8 top hit as onnxruntime-node's`);
        const common = shown.filter((id) => want.includes(id)).length;
        assert.ok(common >= 9, `query ${q.id}: ${common} of 10 int8 hits shared with onnxruntime-node's (${shown} vs ${want})`);
        shared += common;
      }
      t.diagnostic(`int8 page vs onnxruntime-node: ${shared} of ${10 * QUERIES} top-10 ids shared`);
      await session.release();
    });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(offsite, [], 'the page fetches nothing outside its own folder');
    lap('browser searches checked');

    // The page refuses a model that is not the index's (files swapped by hand, checksums updated too) ...
    const swapped = join(work, 'site-swapped');
    cpSync(join(work, 'site-fp32'), swapped, { recursive: true });
    const info = JSON.parse(readFileSync(join(swapped, 'model/densekit-onnx.json'), 'utf8')) as { model: string };
    replaceSiteFile(swapped, 'model/densekit-onnx.json', JSON.stringify({ ...info, model: 'sentence-transformers/some-other-model' }));
    await page.goto(`${server.url}site-swapped/`);
    await page.waitForSelector('body[data-ready="error"]');
    assert.match((await page.textContent('#error'))!, /^This site's model \(sentence-transformers\/some-other-model, 64 dimensions\) is not the model its index was built with \(/);
    assert.equal(await page.isDisabled('#q'), true);
    await page.screenshot({ path: join(repoRoot, 'test-artifacts/web-export-refused.png') });
    // ... a file changed after export ...
    const changed = join(work, 'site-changed');
    cpSync(join(work, 'site-fp32'), changed, { recursive: true });
    const codes = readFileSync(join(changed, 'vectors.i8'));
    codes[0] = codes[0]! ^ 1;
    writeFileSync(join(changed, 'vectors.i8'), codes);
    await page.goto(`${server.url}site-changed/`);
    await page.waitForSelector('body[data-ready="error"]');
    assert.match((await page.textContent('#error'))!, /^vectors\.i8 does not match its checksum in manifest\.json/);
    // ... and a file:// URL, where browsers let no page fetch its files (so the site needs a static server).
    await page.goto(pathToFileURL(join(work, 'site-fp32/index.html')).href);
    await page.waitForSelector('body[data-ready="error"]');
    assert.match((await page.textContent('#error'))!, /must be served over http/);

    // Command-line refusals, one line each.
    const other = join(work, 'flat-other');
    cpSync(flat, other, { recursive: true });
    const meta = JSON.parse(readFileSync(join(other, 'index.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(other, 'index.json'), JSON.stringify({ ...meta, model: 'sentence-transformers/gtr-t5-base' }));
    const webArgs = (index: string, out: string) => ['export-web', '--index', index, '--model', join(work, 'onnx-fp32'), '--output', join(work, out)];
    refused(webArgs(other, 'site-other'), /index was built with the model sentence-transformers\/gtr-t5-base/, /--allow-model-mismatch/);
    assert.ok(!existsSync(join(work, 'site-other')), 'nothing written');
    cli([...webArgs(other, 'site-other'), '--allow-model-mismatch']);
    assert.equal((JSON.parse(readFileSync(join(work, 'site-other/manifest.json'), 'utf8')) as { identity: { allowModelMismatch: boolean } }).identity.allowModelMismatch, true);
    const incomplete = join(work, 'flat-incomplete');
    cpSync(flat, incomplete, { recursive: true });
    rmSync(join(incomplete, 'vectors.f32'));
    refused(webArgs(incomplete, 'site-incomplete'), /vectors\.f32/);
    const huge = join(work, 'flat-huge');
    mkdirSync(huge);
    writeFileSync(join(huge, 'index.json'), JSON.stringify({ ...meta, count: 2_000_001, dim: 8 }));
    refused(webArgs(huge, 'site-huge'), /2,000,001 x 8 vectors/, /at most 2,000,000 vectors and 1 GiB/);
    refused(['export-web', '--index', flat, '--model', join(work, 'emb'), '--output', join(work, 'site-st')], /index was built with the model .*tasb-distilbert-tiny but the model given is .*emb; use that model, or set --allow-model-mismatch/);
    refused([...webArgs(flat, 'site-fp32'), '--output', corpus], /exists and is not a densekit-web site/);
    lap('refusals checked');
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  }
});

/**
 * The other tokenizer families, each through a real export and site: models/scifact-mini (the full
 * bert-base-uncased WordPiece vocabulary, cosine) and the T5 fixture (SentencePiece Unigram, mean pooling and a
 * Dense layer), given to export-web as model folders (it exports them itself). Token ids must equal `densekit
 * tokenize`, and one search the ranking of `densekit search`.
 */
for (const [name, model] of [['scifact-mini', join(repoRoot, 'models/scifact-mini')], ['gtr-t5-tiny-relu', join(fixturesDir, 'models/gtr-t5-tiny-relu')]] as const) {
  test(`export-web: ${name} in the browser tokenizes as densekit tokenize and ranks as densekit search`, { skip, timeout: 300_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), `densekit-web-export-${name}-`));
    let browser: Browser | undefined;
    let server: Awaited<ReturnType<typeof serveStatic>> | undefined;
    try {
      const corpus = join(work, 'corpus.jsonl');
      writeFileSync(corpus, readFileSync(join(SCIFACT, 'corpus.jsonl'), 'utf8').split('\n').slice(0, 40).join('\n') + '\n');
      const query = 'Microstructural development of human newborn cerebral white matter';
      writeFileSync(join(work, 'q.jsonl'), JSON.stringify({ _id: 'q', text: query }) + '\n');
      cli(['encode', '--model', model, '--dtype', 'fp32', '--input', corpus, '--output', join(work, 'emb')]);
      cli(['index', '--type', 'flat', '--input', join(work, 'emb'), '--output', join(work, 'flat')]);
      cli(['search', '--index', join(work, 'flat'), '--model', model, '--dtype', 'fp32', '--queries', join(work, 'q.jsonl'), '--k', '10', '--output', join(work, 'run.trec')]);
      // The model folder itself: export-web runs the ONNX export (fp32 here, to compare with densekit search exactly).
      cli(['export-web', '--index', join(work, 'flat'), '--model', model, '--quantize', 'none', '--corpus', corpus, '--output', join(work, 'site')]);
      server = await serveStatic(work);
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'] });
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${server.url}site/`);
      await page.waitForSelector('body[data-ready="true"]');
      const reference = referenceIds(model, work);
      const inPage = await pageIds(page);
      HARD.forEach((text, i) => assert.deepEqual(inPage[i], reference[i], `${name}: token ids of ${JSON.stringify(text.slice(0, 40))}`));
      const want = readRunIds(join(work, 'run.trec')).get('q')!;
      const shown = await search(page, query);
      assert.deepEqual(shown.map((h) => h.id), want.map((h) => h.id));
      shown.forEach((h, i) => assert.ok(Math.abs(h.score - want[i]!.score) <= 1e-5 * Math.max(1, Math.abs(want[i]!.score)), `rank ${i + 1}: score ${h.score} vs ${want[i]!.score}`));
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser?.close();
      await server?.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
}
