/**
 * ColBERT as an in-batch teacher, in the layout of the published neural-ranking-kd checkpoint
 * (sebastian-hofstaetter/colbert-distilbert-margin_mse-T2-msmarco): config.json with `"model_type": "ColBERT"`,
 * `bert_model` (the encoder's architecture, e.g. distilbert-base-uncased) and `compression_dim`; weights
 * `bert_model.<encoder keys>` plus `compressor.{weight,bias}` (Linear hidden -> compression_dim).
 *
 * Scoring as the released code does it: token vectors = compressor(last hidden state); queries get 8 extra
 * [MASK] tokens (id 103 in BERT's vocabulary, attended) appended; term-x-term dot products, document padding set to -10000, max over
 * document tokens, query padding zeroed, sum over query tokens. The released model uses plain dot products
 * ("a dot-product instead of cosine per term"); `normalize: true` gives the original ColBERT's cosine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, resolveDevice, scope, tensor, fromHost, F, type Device, type Tensor } from '../../tensor/index.js';
import { inMemory, loadStateDict, readHfConfig, resolveModelPath } from '../../io/index.js';
import { createTokenEncoder, StateDictWeights, type TokenEncoder } from '../../models/index.js';
import { loadTokenizer, prepareText, type Tokenizer } from '../../text/index.js';
import { DensekitError, InputError } from '../../errors.js';
import type { InBatchTeacher } from './teacher.js';

export interface ColbertOptions {
  queryMaxLength?: number;
  passageMaxLength?: number;
  /** L2-normalize token vectors (original ColBERT); the neural-ranking-kd checkpoint does not. */
  normalize?: boolean;
  /** [MASK] tokens appended to each query (the released training used 8). */
  queryAugmentation?: number;
  /** Where the teacher's weights and batches live (the student's device). */
  device?: Device;
}

export class ColbertTeacher implements InBatchTeacher {
  private constructor(
    private readonly encoder: TokenEncoder,
    private readonly compressorWeight: Tensor,
    private readonly compressorBias: Tensor | undefined,
    private readonly tokenizer: Tokenizer,
    private readonly options: Required<ColbertOptions>,
  ) {
    const mask = tokenizer.tokenToId('[MASK]');
    if (mask === undefined) throw new DensekitError('ColBERT teacher: the tokenizer has no [MASK] token (query augmentation needs it)');
    this.maskId = mask;
  }
  private readonly maskId: number;

  static load(nameOrPath: string, options: ColbertOptions = {}): ColbertTeacher {
    const dir = resolveModelPath(nameOrPath);
    const configFile = join(dir, 'config.json');
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(configFile, undefined, `cannot read the ColBERT config: ${(e as Error).message}`);
    }
    if (String(raw.model_type).toLowerCase() !== 'colbert' || typeof raw.bert_model !== 'string') {
      throw new InputError(configFile, undefined, `not a neural-ranking-kd ColBERT checkpoint (expected "model_type": "ColBERT" and "bert_model"), got model_type ${JSON.stringify(raw.model_type)}`);
    }
    const baseDir = resolveModelPath(raw.bert_model);
    const config = readHfConfig(baseDir);
    const stateDict = loadStateDict(dir);
    const device = resolveDevice(options.device ?? 'cpu');
    const stored = new Map([...stateDict].map(([k, t]) => [k, inMemory(t)]));
    const encoder = createTokenEncoder(config, new StateDictWeights(stored, dir, { prefixes: ['bert_model.'], device }));
    const w = stateDict.get('compressor.weight');
    if (!w) throw new DensekitError(`${dir}: the ColBERT checkpoint has no compressor.weight`);
    const b = stateDict.get('compressor.bias');
    const tokenizerDir = existsSync(join(dir, 'vocab.txt')) || existsSync(join(dir, 'tokenizer.json')) ? dir : baseDir;
    encoder.train(false);
    return new ColbertTeacher(encoder, fromHost(w, { dtype: 'float32', device }).keep(), b ? fromHost(b, { dtype: 'float32', device }).keep() : undefined, loadTokenizer(tokenizerDir), {
      queryMaxLength: options.queryMaxLength ?? 30,
      passageMaxLength: options.passageMaxLength ?? 200,
      normalize: options.normalize ?? false,
      queryAugmentation: options.queryAugmentation ?? 8,
      device,
    });
  }

  /** Token vectors [B, L, dim] and the attention mask [B, L]. */
  private represent(texts: readonly string[], kind: 'query' | 'passage'): { vecs: Tensor; mask: Tensor } {
    const maxLength = kind === 'query' ? this.options.queryMaxLength : this.options.passageMaxLength;
    const encodings = this.tokenizer.encodeBatch(texts.map((t) => prepareText(t, { strip: true, lowercase: true })), { maxLength });
    const rows = encodings.map((e) => {
      const ids = Array.from(e.ids as ArrayLike<number>);
      if (kind === 'query') for (let i = 0; i < this.options.queryAugmentation; i++) ids.push(this.maskId);
      return ids;
    });
    const length = Math.max(...rows.map((r) => r.length));
    const ids = new Float64Array(rows.length * length);
    const mask = new Float64Array(rows.length * length);
    rows.forEach((r, i) => r.forEach((id, j) => {
      ids[i * length + j] = id;
      mask[i * length + j] = 1;
    }));
    const shape = [rows.length, length];
    const device = this.options.device;
    const inputIds = tensor(ids, { shape, dtype: 'int64', device });
    const attentionMask = tensor(mask, { shape, dtype: 'int64', device });
    let vecs = F.linear(this.encoder.forward({ inputIds, attentionMask }), this.compressorWeight, this.compressorBias);
    if (this.options.normalize) vecs = F.normalize(vecs, 2, 2, 1e-12);
    return { vecs, mask: attentionMask };
  }

  scores(queries: readonly string[], passages: readonly string[]): Tensor {
    return noGrad(() =>
      scope(() => {
        const q = this.represent(queries, 'query');
        const p = this.represent(passages, 'passage');
        const [bq, lq, d] = q.vecs.shape as [number, number, number];
        const [bp, lp] = p.vecs.shape as [number, number];
        // [bq*lq, bp*lp] term-x-term dot products -> [bq, lq, bp, lp]
        const sim = q.vecs.reshape([bq * lq, d]).matmul(p.vecs.reshape([bp * lp, d]).transpose(0, 1)).reshape([bq, lq, bp, lp]);
        const docPad = p.mask.eq(0).reshape([1, 1, bp, lp]).expand([bq, lq, bp, lp]);
        const best = sim.maskedFill(docPad, -10000).amax([3]);
        const queryMask = q.mask.to('float32').unsqueeze(2);
        return best.mul(queryMask).sum([1]).to('float32');
      }),
    );
  }

  dispose(): void {
    this.encoder.dispose();
    this.compressorWeight.dispose();
    this.compressorBias?.dispose();
  }
}
