/** The HTML report renders in headless Chromium: charts drawn (non-blank canvases), no page errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { readQrels, readRun, renderHtmlReport } from '../src/eval/index.js';
import { datasetsDir, fixturesDir, repoRoot } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

test('HTML report is self-contained and its charts draw in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install -y chromium)`, timeout: 60_000 }, async () => {
  const qrels = await readQrels(join(datasetsDir, 'scifact', 'qrels.test.trec'));
  const run = await readRun(join(fixturesDir, 'metrics', 'scifact', 'run.trec'));
  const reversed = { runId: 'reversed', queries: new Map([...run.queries].map(([q, hits]) => [q, hits.map((h) => ({ ...h, score: -h.score }))])) };
  const html = renderHtmlReport(qrels, [run, reversed], { measures: ['ndcg_cut.10', 'map', 'recall.100'], permutations: 500, bootstrapSamples: 500 });
  assert.doesNotMatch(html, /<script[^>]+src=/i, 'no external scripts');
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)[^"'\s]*\.js/i, 'no CDN');
  const path = join(mkdtempSync(join(tmpdir(), 'densekit-report-')), 'report.html');
  writeFileSync(path, html);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(pathToFileURL(path).href);
    await page.waitForFunction(() => (window as unknown as { densekitReport?: { ready: boolean } }).densekitReport?.ready === true, null, { timeout: 20_000 });
    assert.deepEqual(errors, []);
    const painted = await page.evaluate(() => Array.from(document.querySelectorAll('canvas')).map((c) => {
      const ctx = c.getContext('2d')!;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) ink++;
      return { id: c.id, ink, width: c.width };
    }));
    assert.deepEqual(painted.map((p) => p.id), ['distribution', 'difference-0', 'recall']);
    for (const p of painted) assert.ok(p.width > 0 && p.ink > 500, `${p.id} drew (${p.ink} painted pixels)`);
    const artifacts = join(repoRoot, 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'eval-report.png'), fullPage: true });
    assert.ok(readFileSync(join(artifacts, 'eval-report.png')).length > 10_000);
  } finally {
    await browser.close();
  }
});

test('the report names its qrels and runs and fits a 390 px phone: tables scroll in their box, the page never does', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install -y chromium)`, timeout: 60_000 }, async () => {
  const qrelsPath = join(datasetsDir, 'scifact', 'qrels.test.trec');
  const runPath = join(fixturesDir, 'metrics', 'scifact', 'run.trec');
  const qrels = await readQrels(qrelsPath);
  const run = await readRun(runPath);
  const other = { runId: 'sweep-17-bm25-rm3', queries: run.queries };
  const html = renderHtmlReport(qrels, [run, other], { permutations: 200, bootstrapSamples: 200, sources: { qrels: qrelsPath, runs: [runPath, '/elsewhere/sweep/run-17.trec'] } });
  const path = join(mkdtempSync(join(tmpdir(), 'densekit-report-narrow-')), 'report.html');
  writeFileSync(path, html);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'] });
  try {
    for (const width of [390, 1200]) {
      const page = await browser.newPage({ viewport: { width, height: 844 } });
      await page.goto(pathToFileURL(path).href);
      await page.waitForFunction(() => (window as unknown as { densekitReport?: { ready: boolean } }).densekitReport?.ready === true, null, { timeout: 20_000 });
      // The header: the judgments file (with its query count) and each run id beside its file.
      const header = await page.locator('dl.sources').innerText();
      assert.match(header, new RegExp(`Judgments\\s+${qrelsPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(300 queries judged\\)`));
      assert.ok(header.includes(`synthetic: ${runPath}`), header);
      assert.ok(header.includes('sweep-17-bm25-rm3: /elsewhere/sweep/run-17.trec'), header);
      const page_ = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
      assert.ok(page_.scrollWidth <= page_.clientWidth, `no horizontal overflow at ${width} px: ${JSON.stringify(page_)}`);
      // Every table's last column can be reached: scrolled into its box, its right edge is on the screen.
      const lastHeaders = page.locator('table thead tr th:last-child');
      assert.equal(await lastHeaders.count(), 2);
      for (let i = 0; i < 2; i++) {
        await lastHeaders.nth(i).scrollIntoViewIfNeeded();
        const box = (await lastHeaders.nth(i).boundingBox())!;
        assert.ok(box.x >= 0 && box.x + box.width <= width + 0.5, `table ${i + 1}'s last column on a ${width} px screen: ${JSON.stringify(box)}`);
      }
      // Header cells stay on one line (the wrapped "p (rand., Holm)" was unreadable).
      const tall = await page.$$eval('th', (ths) => ths.filter((th) => th.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(th).lineHeight || '20')).map((th) => th.textContent));
      assert.deepEqual(tall, [], 'no header cell wraps');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(repoRoot, 'test-artifacts', `eval-report-${width}px.png`) });
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
