/**
 * TAS-Balanced's dual-teacher Margin-MSE. With S = q . p (the dot-product student) and B queries per batch:
 *   L_pair = mean_i ((S(q_i,p_i+) - S(q_i,p_i-)) - (pos_score_i - neg_score_i))^2       pairwise teacher (static scores)
 *   L_inb  = 0.5 * mean_{i!=j} ((S(q_i,p_i+) - S(q_i,p_j+)) - (T(q_i,p_i+) - T(q_i,p_j+)))^2
 *          + 0.5 * mean_{i!=j} ((S(q_i,p_i+) - S(q_i,p_j-)) - (T(q_i,p_i+) - T(q_i,p_j-)))^2   in-batch teacher (online)
 *   L      = L_pair + weight * L_inb   (weight 0.75)
 * Note T(q_i,p_i+) is the in-batch teacher's own score, not the pairwise pos_score.
 */
import { F, tensor, type Device, type Tensor } from '../../tensor/index.js';

export interface TasbLossInputs {
  queries: Tensor;
  positives: Tensor;
  negatives: Tensor;
  /** Pairwise teacher scores [B] (float32). */
  posScores: Float32Array;
  negScores: Float32Array;
  /** In-batch teacher scores T(q_i, p_j+) and T(q_i, p_j-), [B, B]; omit both for the pairwise loss only. */
  teacherPos?: Tensor;
  teacherNeg?: Tensor;
  inBatchWeight: number;
}

export interface TasbLoss {
  loss: Tensor;
  pairwise: Tensor;
  /** Undefined without an in-batch teacher or with a batch of one. */
  inBatch?: Tensor;
  scoresPos: Tensor;
  scoresNeg: Tensor;
}

export function tasbLoss(inputs: TasbLossInputs): TasbLoss {
  const { queries, positives, negatives } = inputs;
  const b = queries.shape[0]!;
  const scoresPos = queries.matmul(positives.transpose(0, 1));
  const scoresNeg = queries.matmul(negatives.transpose(0, 1));
  const eye = identity(b, queries.device);
  // Diagonals through the score matrices themselves (adding exact zeros), so that S(q_i,p_i+) in the pairwise
  // and in-batch terms is the very same number and the i == j in-batch entries cancel exactly.
  const diagPos = scoresPos.mul(eye).sum([1]);
  const diagNeg = scoresNeg.mul(eye).sum([1]);
  const teacherMargin = tensor(inputs.posScores.map((p, i) => p - inputs.negScores[i]!), { shape: [b], dtype: 'float32', device: queries.device });
  const pairwise = F.mseLoss(diagPos.sub(diagNeg), teacherMargin, 'mean');
  if (!inputs.teacherPos || !inputs.teacherNeg || b < 2) return { loss: pairwise, pairwise, scoresPos, scoresNeg };

  const offDiagonal = eye.neg().add(1);
  const pairsOff = b * (b - 1);
  const teacherDiag = inputs.teacherPos.mul(eye).sum([1], true);
  const studentDiag = diagPos.unsqueeze(1);
  const residualPos = studentDiag.sub(scoresPos).sub(teacherDiag.sub(inputs.teacherPos));
  const residualNeg = studentDiag.sub(scoresNeg).sub(teacherDiag.sub(inputs.teacherNeg));
  const msePos = residualPos.square().mul(offDiagonal).sum().div(pairsOff);
  const mseNeg = residualNeg.square().mul(offDiagonal).sum().div(pairsOff);
  const inBatch = msePos.add(mseNeg).mul(0.5);
  return { loss: pairwise.add(inBatch.mul(inputs.inBatchWeight)), pairwise, inBatch, scoresPos, scoresNeg };
}

function identity(n: number, device: Device): Tensor {
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return tensor(data, { shape: [n, n], dtype: 'float32', device });
}
