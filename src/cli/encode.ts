import type { Command } from 'commander';
import { openTextEncoder, resolveEngine, runEncodeJob, type RequestedEngine } from '../encode/index.js';
import { guessKind } from '../formats/index.js';
import { parseShardSpec, type ShardSpec } from '../encode/slices.js';
import { setNumThreads } from '../tensor/index.js';
import { choosePrecision, type RequestedPrecision } from '../tensor/cpu.js';
import type { Device } from '../tensor/index.js';
import type { WeightsDtype } from '../models/index.js';
import { VERB_SUMMARIES } from './verbs.js';
import { deviceFlag, DTYPE_AUTO_HELP, ENGINE_HELP, engineFlag, loaderReport, oneOf, positiveInt, weightsDtypeFlag, WEIGHTS_DTYPE_HELP } from './options.js';
import { UsageError } from '../errors.js';

interface EncodeFlags {
  model: string;
  input: string;
  output: string;
  kind?: 'query' | 'passage';
  batchSize: number;
  tokenBudget?: number;
  dtype: RequestedPrecision;
  maxLength?: number;
  shardSize: number;
  overwrite?: boolean;
  shard?: ShardSpec;
  threads?: number;
  device: Device;
  weightsDtype: WeightsDtype;
  engine: RequestedEngine;
}

export function register(program: Command): void {
  program
    .command('encode')
    .description(VERB_SUMMARIES['encode'])
    .requiredOption('--model <dir|hub-id>', 'sentence-transformers model folder or cached Hugging Face id')
    .requiredOption('--input <file>', 'corpus.jsonl, queries.jsonl or .tsv')
    .requiredOption('--output <dir>', 'output folder (manifest.json + shard-NNNNN.npy + shard-NNNNN.ids.txt)')
    .option('--kind <kind>', 'query|passage (default: query if the file name contains "quer")', oneOf('--kind', ['query', 'passage'] as const))
    .option('--batch-size <n>', 'texts per forward pass (with --token-budget: the most per pass)', positiveInt('--batch-size'), 32)
    .option('--token-budget <n>', 'batch by length instead: at most N padded tokens per pass (long passages in small batches, short in large)', positiveInt('--token-budget'))
    .option('--dtype <dtype>', `${DTYPE_AUTO_HELP}; fp16 on CUDA only, never for T5`, oneOf('--dtype', ['auto', 'fp32', 'bf16', 'int8', 'fp16'] as const), 'auto')
    .option('--max-length <n>', "token limit (default: the model's max_seq_length)", positiveInt('--max-length'))
    .option('--shard-size <n>', 'rows per shard', positiveInt('--shard-size'), 10_000)
    .option('--threads <n>', 'CPU threads (libtorch, or ONNX Runtime with --engine onnx)', positiveInt('--threads'))
    .option('--engine <engine>', ENGINE_HELP, engineFlag, 'auto')
    .option('--device <device>', 'cpu|cuda|cuda:N', deviceFlag, 'cpu')
    .option('--weights-dtype <dtype>', WEIGHTS_DTYPE_HELP, weightsDtypeFlag, 'auto')
    .option('--shard <I/N>', 'encode only the I-th (0-based) of N equal slices of the input by record number', (v) => parseShardSpec(v))
    .option('--overwrite', 'discard embeddings of another job found in --output')
    .action(async (f: EncodeFlags) => {
      if (f.threads) setNumThreads(f.threads);
      const kind = f.kind ?? guessKind(f.input);
      const engine = resolveEngine(f.model, f.engine);
      // ONNX Runtime runs the export as it was written (fp32, or int8 for a --quantize int8 export).
      if (engine === 'onnx' && f.dtype !== 'auto' && f.dtype !== 'fp32') throw new UsageError(`--dtype ${f.dtype} applies to --engine torch; the onnx engine computes in fp32 (or int8 with a --quantize int8 export)`);
      const precision = engine === 'onnx' ? { dtype: 'fp32' as const, note: 'onnx engine (fp32 compute)', warning: undefined } : choosePrecision(f.dtype, f.device);
      // On a terminal say it at once; the summary line says it too (piped stderr keeps bad input to one line).
      if (process.stderr.isTTY) process.stderr.write(`densekit: ${precision.note}\n`);
      if (precision.warning) process.stderr.write(`densekit: warning: ${precision.warning}\n`);
      const report = loaderReport();
      const encoder = await openTextEncoder(f.model, {
        engine,
        ...(f.threads ? { threads: f.threads } : {}),
        batchSize: f.batchSize,
        ...(f.tokenBudget ? { tokenBudget: f.tokenBudget } : {}),
        dtype: precision.dtype,
        device: f.device,
        weightsDtype: f.weightsDtype,
        log: report.log,
        ...(f.maxLength ? { queryMaxLength: f.maxLength, passageMaxLength: f.maxLength } : {}),
      });
      try {
        const s = await runEncodeJob({
          encoder, input: f.input, output: f.output, kind, shardSize: f.shardSize, precision: precision.dtype,
          overwrite: f.overwrite ?? false, ...(f.shard ? { shard: f.shard } : {}), log: (l) => process.stderr.write(l + '\n'),
        });
        report.flush();
        const m = s.manifest;
        process.stdout.write(
          (s.encoded === 0
            ? `already complete, nothing encoded: `
            : `encoded ${s.encoded} ${kind === 'query' ? 'queries' : 'passages'}` +
              (s.resumedFrom ? ` (resumed after ${s.resumedFrom})` : '') +
              ` in ${s.seconds.toFixed(1)}s (${s.rate.toFixed(1)}/s, ${precision.note}): `) +
            `${m.total} x ${m.dim} ${m.similarity} vectors in ${m.shards.length} shard(s) at ${f.output}` +
            (m.slice ? ` (slice ${m.slice.index}/${m.slice.of}: records ${m.slice.start}..${m.slice.end - 1} of ${m.slice.records})` : '') + '\n' +
            `truncated: ${m.truncated.count} of ${m.total} texts were longer than ${m.truncated.maxLength} tokens and were cut to it\n`,
        );
      } finally {
        await encoder.close();
      }
    });
}
