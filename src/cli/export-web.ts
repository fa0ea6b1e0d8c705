/** `densekit export-web`: a static folder that searches a dense index in a browser tab (src/web-export). */
import type { Command } from 'commander';
import { exportWeb, MAX_WEB_VECTOR_BYTES, MAX_WEB_VECTORS } from '../web-export/index.js';
import { oneOf } from './options.js';

interface ExportWebFlags {
  index: string;
  model: string;
  output: string;
  corpus?: string;
  titleField: string;
  title?: string;
  rescore: 'float32' | 'none';
  quantize: 'int8' | 'none';
  allowModelMismatch?: boolean;
}

const HELP = `
The site holds the index's vectors as int8 codes (per-dimension scales, as \`densekit index --storage int8\`)
and, unless --rescore none, the float32 rows: the page scans every code and rescores the best 4 x k rows in
float32, ranking as \`densekit search\` ranks an int8 flat index. --model is the model the index was built
with: a model folder or Hub id, exported here (\`densekit export --format onnx --quantize int8\`), or a folder
that command wrote. The page tokenizes with densekit's own tokenizer and encodes with onnxruntime-web (single-threaded wasm,
copied into the site: it works offline and needs no cross-origin isolation). Open it from any static http
server (e.g. \`python3 -m http.server -d SITE\`); a file:// page cannot fetch its files.
A browser tab is given at most ${MAX_WEB_VECTORS.toLocaleString('en')} vectors and ${MAX_WEB_VECTOR_BYTES / 1024 ** 3} GiB of vector files.`;

export function register(program: Command): void {
  program
    .command('export-web')
    .description('write a static site that searches a dense index in the browser (onnxruntime-web, no server)')
    .requiredOption('--index <dir>', 'flat or hnsw index folder from `densekit index`')
    .requiredOption('--model <dir|id>', 'the index\'s model: a model folder or Hub id (exported here), or an ONNX export folder (`densekit export --format onnx`)')
    .requiredOption('--output <dir>', 'site folder to write (a new folder, or an earlier site to replace)')
    .option('--corpus <file>', 'the indexed corpus.jsonl or tsv, for titles and snippets')
    .option('--title-field <name>', 'corpus field shown as the title', 'title')
    .option('--title <text>', 'the page heading (default: the index folder name)')
    .option('--quantize <q>', 'int8|none: how a model folder or Hub id is exported (an export folder is taken as it is)', oneOf('--quantize', ['int8', 'none'] as const), 'int8')
    .option('--rescore <r>', 'float32|none: ship float32 rows to rescore candidates, or rank by int8 alone', oneOf('--rescore', ['float32', 'none'] as const), 'float32')
    .option('--allow-model-mismatch', 'export an index built with another model than --model')
    .addHelpText('after', HELP)
    .action(async (f: ExportWebFlags) => {
      const r = await exportWeb({
        index: f.index, model: f.model, output: f.output, titleField: f.titleField, rescore: f.rescore, quantize: f.quantize,
        ...(f.corpus !== undefined ? { corpus: f.corpus } : {}), ...(f.title !== undefined ? { title: f.title } : {}),
        allowModelMismatch: f.allowModelMismatch ?? false,
        log: (line) => process.stderr.write(`densekit: ${line}\n`),
      });
      process.stdout.write(`${r.summary}\n`);
    });
}
