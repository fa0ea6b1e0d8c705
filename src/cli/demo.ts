import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runBeir } from '../pipeline/beir.js';
import { renderBeirTable } from './beir.js';
import { VERB_SUMMARIES } from './verbs.js';

/**
 * The README's main job: the whole pipeline on the SciFact copy in data/scifact with the demo model in
 * models/scifact-mini (trained by `npm run train:demo-model`), dense beside BM25 and hybrid. Both ship in the
 * repository and the npm package, so it runs from any folder.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description(VERB_SUMMARIES['demo'])
    .option('--model <dir|hub-id>', 'another dense model, e.g. sentence-transformers/msmarco-distilbert-base-tas-b')
    .action(async (f: { model?: string }) => {
      const root = packageRoot();
      const dataset = join(root, 'data', 'scifact');
      const model = f.model ?? join(root, 'models', 'scifact-mini');
      const cache = mkdtempSync(join(tmpdir(), 'densekit-demo-'));
      try {
        process.stderr.write(`densekit demo: ${dataset} with ${model}\n`);
        const report = await runBeir({ dataset, model, retrievers: ['dense', 'bm25', 'hybrid'], cacheDir: cache, log: (l) => process.stderr.write(l + '\n') });
        process.stdout.write(`${report.dataset} (${report.split}, ${report.queries} queries)\n` + renderBeirTable(report));
        if (!f.model) process.stdout.write('(dense: models/scifact-mini, a 4-layer 128-wide BERT trained from scratch on SciFact abstracts with pseudo-queries; see README)\n');
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    });
}

/** The folder holding densekit's package.json (a clone, or node_modules/densekit). */
function packageRoot(): string {
  let dir = resolve(fileURLToPath(import.meta.url), '..');
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'data', 'scifact'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('densekit demo: data/scifact not found beside package.json (an incomplete install)');
}
