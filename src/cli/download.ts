import type { Command } from 'commander';
import { downloadModel, hubSettings } from '../hub/index.js';
import { formatBytes } from '../util/progress.js';
import { VERB_SUMMARIES } from './verbs.js';

/** `densekit download ORG/NAME [--revision R]`: the model's files into the shared Hugging Face cache; prints the folder. */
export function register(program: Command): void {
  program
    .command('download')
    .description(VERB_SUMMARIES['download'])
    .argument('<model>', 'Hub id, e.g. sentence-transformers/msmarco-distilbert-base-tas-b')
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .action(async (model: string, f: { revision: string }) => {
      const r = await downloadModel(model, { revision: f.revision });
      const settings = hubSettings();
      process.stderr.write(
        `${r.repo}@${r.revision}: commit ${r.commit}, ` +
          (r.downloadedBytes > 0 ? `downloaded ${formatBytes(r.downloadedBytes)}` : 'already in the cache') + ` (${settings.cacheDir})\n`,
      );
      process.stdout.write(r.dir + '\n');
    });
}
