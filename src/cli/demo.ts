import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runBeir } from '../pipeline/beir.js';
import { renderBeirTable } from './beir.js';

/** The README's main job: the whole pipeline on the bundled SciFact with the tiny TAS-B fixture model and BM25. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('encode -> index -> search -> evaluate SciFact (../shared) with a fixture model, dense + BM25 + hybrid')
    .option('--shared <dir>', 'the shared reference folder', defaultShared())
    .action(async (f: { shared: string }) => {
      const dataset = join(f.shared, 'datasets', 'scifact');
      const model = join(f.shared, 'fixtures', 'models', 'tasb-distilbert-tiny');
      const cache = mkdtempSync(join(tmpdir(), 'densekit-demo-'));
      try {
        process.stderr.write(`densekit demo: ${dataset} with ${model}\n`);
        const report = await runBeir({ dataset, model, retrievers: ['dense', 'bm25', 'hybrid'], cacheDir: cache, log: (l) => process.stderr.write(l + '\n') });
        process.stdout.write(`${report.dataset} (${report.split}, ${report.queries} queries)\n` + renderBeirTable(report));
        process.stdout.write('(the fixture model has tiny random weights: its dense scores show the pipeline works, not retrieval quality)\n');
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    });
}

function defaultShared(): string {
  let dir = resolve(fileURLToPath(import.meta.url), '..');
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return resolve(dir, '../shared');
    dir = resolve(dir, '..');
  }
  return resolve('../shared');
}
