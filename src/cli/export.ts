/**
 * `densekit export --model M --format onnx [--weights-dtype fp32|fp16] --output DIR`: the model recorded from
 * densekit's own definitions into DIR/model.onnx (src/backends/onnx/export.ts), with the tokenizer files and
 * DIR/densekit-onnx.json. The folder appears complete or not at all.
 */
import type { Command } from 'commander';
import { exportOnnx, ONNX_WEIGHTS_DTYPES, type OnnxWeightsDtype } from '../backends/onnx/export.js';
import { formatBytes, formatDuration } from '../util/progress.js';
import { describeInt8 } from '../backends/onnx/int8-check.js';
import { oneOf } from './options.js';

interface ExportFlags {
  model: string;
  format: 'onnx';
  weightsDtype: OnnxWeightsDtype;
  quantize?: 'int8';
  output: string;
}

const HELP = `
The graph: inputs input_ids and attention_mask (int64 [batch, sequence], both axes dynamic); outputs
sentence_embedding ([batch, dim], after the model's Pooling, Dense and Normalize) and token_embeddings
([batch, sequence, hidden]); opset 17. BERT's token_type_ids are zeros inside the graph (single texts).
--weights-dtype fp16 stores weight matrices in half precision (half the file; computation stays float32).
Weights over 2 GB go to DIR/model.onnx_data (ONNX external data).
--quantize int8 rewrites each MatMul/Gemm with a weight matrix into DynamicQuantizeLinear -> MatMulInteger (int8
weights, one scale per output column) -> Cast -> Mul, which ONNX Runtime's CPU provider fuses into
DynamicQuantizeMatMul (VNNI) and onnxruntime-web runs too; it prints the cosine of int8 to fp32 vectors. An int8
export is another model to indexes (its identity is the source's + "+onnx-int8").`;

export function register(program: Command): void {
  program
    .command('export')
    .description('export a model as an ONNX graph (for ONNX Runtime: CPU, CUDA, the browser)')
    .requiredOption('--model <dir|id>', 'model folder or Hugging Face Hub id')
    .requiredOption('--format <format>', 'onnx', oneOf('--format', ['onnx'] as const))
    .option('--weights-dtype <dtype>', ONNX_WEIGHTS_DTYPES.join('|'), oneOf('--weights-dtype', ONNX_WEIGHTS_DTYPES), 'fp32')
    .option('--quantize <q>', 'int8: weights int8 per output channel, activations quantized at run time (ONNX Runtime dynamic quantization; reports cosine to fp32)', oneOf('--quantize', ['int8'] as const))
    .requiredOption('--output <dir>', 'folder to write (replaced when it exists)')
    .addHelpText('after', HELP)
    .action(async (f: ExportFlags) => {
      const start = performance.now();
      const r = await exportOnnx(f.model, { output: f.output, weightsDtype: f.weightsDtype, ...(f.quantize ? { quantize: f.quantize } : {}), log: (line) => process.stderr.write(`${line}\n`) });
      if (r.int8) process.stderr.write(`${describeInt8(r.int8)}\n`);
      process.stderr.write(
        `${r.dir}: model.onnx ${formatBytes(r.modelBytes)}${r.externalDataBytes ? ` + model.onnx_data ${formatBytes(r.externalDataBytes)}` : ''}, ` +
          `${r.nodes} nodes, dim ${r.manifest.dim} (${r.manifest.similarity}), in ${formatDuration((performance.now() - start) / 1000)}\n`,
      );
      process.stdout.write(r.dir + '\n');
    });
}
