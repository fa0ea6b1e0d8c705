/**
 * Any densekit model as the in-batch teacher (e.g. a trained TAS-B or a cross-architecture bi-encoder): scores
 * are the model's own similarity (dot or cosine) between its query and passage embeddings.
 */
import { noGrad, scope, type Device, type Tensor } from '../../tensor/index.js';
import { SentenceEncoder } from '../../models/index.js';
import type { InBatchTeacher } from './teacher.js';

export class DenseTeacher implements InBatchTeacher {
  constructor(private readonly model: SentenceEncoder) {
    model.train(false);
  }

  static load(nameOrPath: string, options: { queryMaxLength?: number; passageMaxLength?: number; device?: Device } = {}): DenseTeacher {
    return new DenseTeacher(SentenceEncoder.load(nameOrPath, options));
  }

  scores(queries: readonly string[], passages: readonly string[]): Tensor {
    return noGrad(() =>
      scope(() => {
        const q = this.model.forward(this.model.tokenize(queries, 'query'));
        const p = this.model.forward(this.model.tokenize(passages, 'passage'));
        return q.matmul(p.transpose(0, 1));
      }),
    );
  }

  dispose(): void {
    this.model.dispose();
  }
}
