/**
 * Tensor ops against numbers PyTorch 1.13 produced (../shared/fixtures/training): the GTR in-batch loss from its
 * recorded embeddings, and one Adam step on fixture weights read through mmapFile + fromHost.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { F, arange, cat, fromHost, mmapFile, noGrad, tensor, zeros, type Tensor } from '../src/tensor/index.js';
import { assertClose, sharedPath as fixture } from './tensor.helpers.js';

type Matrix = number[][];

test('GTR in-batch cross-entropy from recorded embeddings matches PyTorch', () => {
  const step = JSON.parse(readFileSync(fixture('fixtures/training/gtr-step.json'), 'utf8'));
  for (const [precision, dtype, tol] of [['f32', 'float32', 1e-5], ['f64', 'float64', 1e-12]] as const) {
    const emb = step[`embeddings_${precision}`] as Record<string, Matrix>;
    const m = (rows: Matrix) => tensor(rows.flat(), { shape: [rows.length, rows[0]!.length], dtype });
    const q = m(emb.q_emb!);
    const pos = m(emb.pos_emb!);
    const neg = m(emb.neg_emb!);
    const left = q.matmul(cat([pos, neg]).transpose(0, 1)).mul(100);
    const right = pos.matmul(q.transpose(0, 1)).mul(100);
    const logits = step[`logits_${precision}`] as Record<string, Matrix>;
    assertClose(left.toArray(), logits.logits_left!.flat(), tol * 10, `logits_left ${precision}`);
    assertClose(right.toArray(), logits.logits_right!.flat(), tol * 10, `logits_right ${precision}`);
    const labels = arange(4);
    const ceLeft = F.crossEntropy(left, labels).item();
    const ceRight = F.crossEntropy(right, labels).item();
    const loss = step[`loss_${precision}`] as { CE_left: number; CE_right: number; L: number };
    assertClose([ceLeft, ceRight, ceLeft + ceRight], [loss.CE_left, loss.CE_right, loss.L], tol, `loss ${precision}`);
  }
});

/** Reads one float32 tensor of a safetensors file through a memory map (header: u64 length + JSON). */
function readSafetensor(path: string, name: string): Tensor {
  const buffer = mmapFile(path);
  const headerLength = Number(new DataView(buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  const entry = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
  assert.equal(entry.dtype, 'F32');
  const start = 8 + headerLength + entry.data_offsets[0];
  return fromHost({ dtype: 'float32', shape: entry.shape, data: new Uint8Array(buffer, start, entry.data_offsets[1] - entry.data_offsets[0]) });
}

test('one torch.optim.Adam step with in-place ops reproduces PyTorch', () => {
  const step = JSON.parse(readFileSync(fixture('fixtures/training/tasb-step.json'), 'utf8'));
  const adam = step.optimizer_steps.adam;
  const [lr, beta1, beta2, eps] = [1e-3, 0.9, 0.999, 1e-8];
  for (const name of step.full_param_names as string[]) {
    const param = readSafetensor(fixture('fixtures/models/tasb-distilbert-tiny/model.safetensors'), name);
    assertClose([param.norm().item()], [step.params_before_norm[name]], 1e-6, `${name} norm before`);
    const grad = tensor(step.grad_f32[name] as number[], { shape: step.param_shapes[name] });
    // torch/optim/adam.py (_single_tensor_adam, 1.13), step 1, weight_decay 0: the same op sequence.
    noGrad(() => {
      const expAvg = zeros(param.shape);
      const expAvgSq = zeros(param.shape);
      expAvg.mul_(beta1).add_(grad, 1 - beta1);
      expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
      const stepSize = lr / (1 - beta1 ** 1);
      const denom = expAvgSq.sqrt().div(Math.sqrt(1 - beta2 ** 1)).add_(eps);
      param.addcdiv_(expAvg, denom, -stepSize);
    });
    assertClose(param.toArray(), adam.params_after_full[name], 1e-6, `${name} after Adam`);
  }
});
