/**
 * End to end in a real browser: the service over SciFact (BM25 over the whole corpus; a dense flat index of
 * the first 300 documents encoded by the tiny TAS-B fixture model, so the test stays fast), the page
 * loaded in headless Chromium, a query typed and its results checked against the collection's own files
 * (titles from corpus.jsonl, relevance from the qrels). A screenshot is kept in test-artifacts/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openEncoder, runEncodeJob } from '../src/encode/index.js';
import { buildFlatIndex } from '../src/retrieval/index.js';
import { buildBm25Index } from '../src/retrieval/index.js';
import { openService } from '../src/serve/launch.js';
import { datasetsDir, fixturesDir, repoRoot } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCIFACT = join(datasetsDir, 'scifact');
const MODEL = join(fixturesDir, 'models/tasb-distilbert-tiny');
const DENSE_DOCS = 300;

const corpusLines = readFileSync(join(SCIFACT, 'corpus.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
const titles = new Map(corpusLines.map((l) => JSON.parse(l) as { _id: string; title: string }).map((d) => [d._id, d.title]));
const queryText = new Map(
  readFileSync(join(SCIFACT, 'queries.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { _id: string; text: string }).map((q) => [q._id, q.text]),
);
/** The page's widths: scrollWidth > clientWidth is content cut off at the right edge (or a sideways scroll). */
async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
}

/**
 * WCAG contrast ratio of each matched element's text colour against the first opaque background behind it
 * (its own or an ancestor's; the page's canvas colour when none is set).
 */
async function contrasts(page: Page, selector: string): Promise<Array<{ text: string; ratio: number; fg: string; bg: string }>> {
  return page.$$eval(selector, (els) => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
    };
    const canvas = getComputedStyle(document.documentElement).colorScheme.includes('dark') && matchMedia('(prefers-color-scheme: dark)').matches ? 'rgb(18, 18, 18)' : 'rgb(255, 255, 255)';
    return els.filter((e) => e.textContent!.trim() !== '').map((e) => {
      const fg = getComputedStyle(e).color;
      let bg = canvas;
      for (let n: Element | null = e; n; n = n.parentElement) {
        const c = getComputedStyle(n).backgroundColor;
        const parts = rgb(c);
        if (parts.length === 3 || (parts.length === 4 && parts[3]! >= 1)) { bg = c; break; }
      }
      const [a, b] = [luminance(rgb(fg)), luminance(rgb(bg))];
      return { text: e.textContent!.trim().slice(0, 40), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), fg, bg };
    });
  });
}

const relevant = (qid: string): Set<string> =>
  new Set(readFileSync(join(SCIFACT, 'qrels/test.tsv'), 'utf8').split('\n').slice(1).map((l) => l.split('\t')).filter((r) => r[0] === qid).map((r) => r[1]!));

test('search from the page in headless Chromium', { skip: !existsSync(CHROMIUM) && `no browser at ${CHROMIUM}` }, async (t) => {
  const started = performance.now();
  const lap = (what: string) => t.diagnostic(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const work = mkdtempSync(join(tmpdir(), 'densekit-serve-browser-'));
  let browser: Browser | undefined;
  let app: Awaited<ReturnType<typeof openService>>['app'] | undefined;
  try {
    // Indexes, built by the library as `densekit index` / `densekit encode` would.
    await buildBm25Index(join(SCIFACT, 'corpus.jsonl'), join(work, 'bm25'));
    const subset = join(work, 'corpus-head.jsonl');
    writeFileSync(subset, corpusLines.slice(0, DENSE_DOCS).join('\n') + '\n');
    const encoder = await openEncoder(MODEL, { batchSize: 64 });
    try {
      await runEncodeJob({ encoder, input: subset, output: join(work, 'emb'), kind: 'passage' });
    } finally {
      encoder.close();
    }
    buildFlatIndex(join(work, 'emb'), join(work, 'flat'));
    lap('indexes built');

    const opened = await openService({
      indexes: [join(work, 'flat'), join(work, 'bm25')],
      corpus: join(SCIFACT, 'corpus.jsonl'),
      evalQrels: join(SCIFACT, 'qrels.test.trec'),
      evalRuns: [join(fixturesDir, 'metrics/scifact/run.trec')],
    });
    app = opened.app;
    assert.deepEqual(opened.modes, ['hybrid', 'dense', 'bm25']);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    lap('service listening');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(base);
    await page.waitForSelector('body[data-ready="true"]');
    lap('page loaded');

    // Keyboard: "/" focuses the search box; then type a SciFact query and press Enter (BM25).
    const qid = '94';
    const query = queryText.get(qid)!;
    await page.getByLabel('BM25').check();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'q');
    await page.keyboard.type(query);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#results[data-state="done"] li.hit');

    const shown = await page.$$eval('#results li.hit', (items) =>
      items.map((li) => ({
        id: (li as HTMLElement).dataset.id!,
        title: li.querySelector('h2')!.textContent!,
        marks: Array.from(li.querySelectorAll('mark'), (m) => m.textContent!.toLowerCase()),
      })),
    );
    assert.equal(shown.length, 10);
    const apiHits = ((await (await fetch(`${base}/search`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, mode: 'bm25', k: 10 }),
    })).json()) as { hits: { id: string }[] }).hits.map((h) => h.id);
    assert.deepEqual(shown.map((s) => s.id), apiHits, 'the page shows the API ranking');
    for (const s of shown) assert.equal(s.title, titles.get(s.id), `title of ${s.id} as in corpus.jsonl`);
    const judged = relevant(qid);
    assert.ok(judged.has(shown[0]!.id), `top BM25 hit ${shown[0]!.id} is judged relevant for query ${qid} (${[...judged]})`);
    // Marked words are forms of the query's words ("treated" for "treat", "using" for "used").
    const marked = new Set(shown.flatMap((s) => s.marks));
    const queryWords = query.toLowerCase().match(/[a-z]+/g)!;
    for (const m of marked) assert.ok(queryWords.some((w) => m.slice(0, 2) === w.slice(0, 2)), `"${m}" is marked but not in the query`);
    for (const word of ['lymphatic', 'filariasis']) assert.ok(marked.has(word), `"${word}" highlighted (${[...marked]})`);
    assert.ok(!marked.has('is'), 'stop words are not marked');
    const status = await page.textContent('#status');
    assert.match(status!, /^10 results \(bm25\) · server [\d.]+ ms · round trip \d+ ms$/);

    // The full document opens from its title, by keyboard.
    await page.locator('#results li.hit').first().locator('button.open').focus();
    await page.keyboard.press('Enter');
    const full = page.locator('#results li.hit').first().locator('.full');
    await full.waitFor({ state: 'visible' });
    const doc = JSON.parse(corpusLines.find((l) => JSON.parse(l)._id === shown[0]!.id)!) as { text: string };
    assert.equal(await full.textContent(), doc.text);

    mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-artifacts/serve-search-bm25.png'), fullPage: true });

    // Dense and hybrid: switching the mode re-runs the query.
    for (const mode of ['dense', 'hybrid'] as const) {
      await page.getByLabel(mode === 'dense' ? 'Dense' : 'Hybrid').check();
      await page.waitForFunction((m) => document.getElementById('status')!.textContent!.includes(`(${m})`), mode);
      const ids = await page.$$eval('#results li.hit', (items) => items.map((li) => (li as HTMLElement).dataset.id!));
      assert.equal(ids.length, 10);
      if (mode === 'dense') {
        const head = new Set(corpusLines.slice(0, DENSE_DOCS).map((l) => (JSON.parse(l) as { _id: string })._id));
        for (const id of ids) assert.ok(head.has(id), `dense hit ${id} comes from the dense index's documents`);
      }
    }
    await page.screenshot({ path: join(repoRoot, 'test-artifacts/serve-search-hybrid.png'), fullPage: true });

    // Evaluation view: the report of `densekit eval` for the fixture run.
    await page.getByRole('link', { name: 'Evaluation' }).click();
    const frame = page.frameLocator('#eval-frame');
    await frame.locator('table').first().waitFor();
    const summary = new Map(
      await frame.locator('table').first().locator('tbody tr').evaluateAll((rows) =>
        rows.map((r) => [(r as HTMLTableRowElement).cells[0]!.textContent!, (r as HTMLTableRowElement).cells[1]!.textContent!] as const)),
    );
    // Same numbers as trec_eval's own output for this run.
    const trecEval = readFileSync(join(fixturesDir, 'metrics/scifact/trec_eval.txt'), 'utf8');
    for (const measure of ['map', 'recip_rank', 'P_10']) {
      const expected = trecEval.match(new RegExp(`^${measure}\\s+all\\s+(\\S+)$`, 'm'))![1];
      assert.equal(summary.get(measure), expected, `${measure} in the evaluation view`);
    }
    await page.screenshot({ path: join(repoRoot, 'test-artifacts/serve-eval.png') });
    // The report names what it evaluated: the qrels file and each run's file.
    const sources = await frame.locator('dl.sources').textContent();
    assert.ok(sources!.includes(join(SCIFACT, 'qrels.test.trec')), `qrels named in the report header: ${sources}`);
    assert.ok(sources!.includes(join(fixturesDir, 'metrics/scifact/run.trec')), `run named in the report header: ${sources}`);

    // A phone (390 px, iPhone 12-15) and the desktop: nothing wider than the screen, the Search button whole on it,
    // every control at least 24 px high (WCAG 2.5.8), the report's tables scrolling in their own box.
    for (const width of [390, 1100]) {
      const small = await browser.newPage({ viewport: { width, height: 844 } });
      small.on('pageerror', (e) => pageErrors.push(e.message));
      await small.goto(base);
      await small.waitForSelector('body[data-ready="true"]');
      await small.getByLabel('BM25').check();
      await small.fill('#q', query);
      await small.keyboard.press('Enter');
      await small.waitForSelector('#results[data-state="done"] li.hit');
      assert.deepEqual(await horizontalOverflow(small), { scrollWidth: width, clientWidth: width }, `search page at ${width} px`);
      const button = (await small.getByRole('button', { name: 'Search' }).boundingBox())!;
      assert.ok(button.x >= 0 && button.x + button.width <= width, `Search button inside the ${width} px screen: ${JSON.stringify(button)}`);
      const targets = await small.$$eval('button[type=submit], #q, select, nav a, fieldset label', (els) =>
        els.map((e) => ({ what: e.textContent!.trim() || e.id, height: e.getBoundingClientRect().height })));
      for (const t of targets) assert.ok(t.height >= 24, `${t.what} is ${t.height} px high at ${width} px`);
      await small.screenshot({ path: join(repoRoot, `test-artifacts/serve-search-${width}px.png`) });
      // Text contrast (WCAG AA: 4.5:1) of the page's texts against their backgrounds, light and dark schemes.
      for (const colorScheme of ['light', 'dark'] as const) {
        await small.emulateMedia({ colorScheme });
        for (const c of await contrasts(small, 'button[type=submit], #service-info, #status, #q-hint, nav a, #results .hit h2 button, #results .meta, #results .snippet, legend')) {
          assert.ok(c.ratio >= 4.5, `${colorScheme}: "${c.text}" contrast ${c.ratio.toFixed(2)} (${c.fg} on ${c.bg})`);
        }
      }
      await small.emulateMedia({ colorScheme: 'light' });

      await small.getByRole('link', { name: 'Evaluation' }).click();
      const report = small.frameLocator('#eval-frame');
      await report.locator('table').first().waitFor();
      assert.deepEqual(await horizontalOverflow(small), { scrollWidth: width, clientWidth: width }, `evaluation view at ${width} px`);
      const inner = await report.locator('html').evaluate((html) => ({ scrollWidth: html.scrollWidth, clientWidth: html.clientWidth }));
      assert.ok(inner.scrollWidth <= inner.clientWidth, `the report inside the page at ${width} px: ${JSON.stringify(inner)}`);
      await small.screenshot({ path: join(repoRoot, `test-artifacts/serve-eval-${width}px.png`) });
      await small.close();
    }

    assert.deepEqual(pageErrors, []);
    lap('browser checks done');
  } finally {
    await browser?.close();
    await app?.close();
    rmSync(work, { recursive: true, force: true });
  }
});
