/**
 * `--quantize int8`: ONNX Runtime's dynamic quantization, as a pass over an exported ModelProto.
 *
 * Every MatMul (or Gemm) whose right-hand side is a float initializer W [K, N] (or Transpose(perm [1, 0]) of one,
 * as densekit's recorder writes Linear layers: x W^T with W [out, in]) becomes
 *
 *     x --DynamicQuantizeLinear--> x_q (uint8), x_scale, x_zero_point
 *     MatMulInteger(x_q, W_q, x_zero_point, W_zero_point) --Cast(float)--> Mul(., Mul(x_scale, W_scale)) [--Add(bias)]
 *
 * with W_q int8, symmetric (zero point 0) and one scale per output column (max |W[:, j]| / 127). This is the exact
 * shape ONNX Runtime's CPU graph optimizer fuses, first into MatMulIntegerToFloat (MatMulIntegerToFloatFusion:
 * Mul <- Cast <- MatMulInteger and Mul(A_scale, B_scale), optionally followed by an Add whose *second* input is a
 * constant 1-D bias), then with the DynamicQuantizeLinear into DynamicQuantizeMatMul
 * (DynamicQuantizeMatMulFusion: the DynamicQuantizeLinear must feed only that one node, so each MatMul gets its own),
 * which runs u8s8 GEMMs with AVX-512 VNNI where the CPU has it (onnxruntime/core/optimizer/matmul_integer_to_float.cc,
 * dynamic_quantize_matmul_fusion.cc). Unfused, the same graph is plain opset-11 operators that onnxruntime-web's
 * wasm backend runs too. It is what ORT's own `quantize_dynamic(per_channel=True, weight_type=QInt8)` writes.
 *
 * The activation scale is per tensor and computed at run time over the whole batch (padding rows included), so an
 * int8 vector depends slightly on the other texts of its batch: cosine to fp32 stays >= 0.999 on the fixtures
 * (test/onnx.int8.test.ts), but int8 vectors are not bit-reproducible across batchings as fp32 ones are.
 *
 * Matrix products of two activations (attention scores) and the embedding Gathers stay fp32. Written here rather
 * than taken from a library: the only implementation is ORT's Python quantizer (onnx + numpy), and no npm package
 * edits a ModelProto this way; the pass is small and its output is checked against sentence-transformers.
 */
import { DensekitError } from '../../errors.js';

/**
 * The ModelProto as src/backends/onnx/schema.ts reads and writes it with protobufjs: onnx.proto's own (snake_case)
 * field names; int64 fields as numbers, or Long objects when the `long` package is present.
 */
type Int64 = number | { toNumber(): number };

export interface TensorProtoLike {
  name?: string | null;
  dims?: Int64[] | null;
  data_type?: number | null;
  raw_data?: Uint8Array | null;
  float_data?: number[] | null;
  data_location?: number | null;
}

export interface AttributeProtoLike {
  name?: string | null;
  type?: number | null;
  i?: Int64 | null;
  f?: number | null;
  ints?: Int64[] | null;
}

export interface NodeProtoLike {
  input?: string[] | null;
  output?: string[] | null;
  name?: string | null;
  op_type?: string | null;
  domain?: string | null;
  attribute?: AttributeProtoLike[] | null;
}

export interface GraphProtoLike {
  node?: NodeProtoLike[] | null;
  initializer?: TensorProtoLike[] | null;
  output?: Array<{ name?: string | null }> | null;
}

export interface ModelProtoLike {
  graph?: GraphProtoLike | null;
  opset_import?: Array<{ domain?: string | null; version?: Int64 | null }> | null;
}

/** TensorProto.DataType and AttributeProto.AttributeType values used here (onnx.proto). */
const FLOAT = 1, UINT8 = 2, INT8 = 3;
const ATTR_FLOAT = 1, ATTR_INT = 2;
/** DynamicQuantizeLinear and MatMulInteger exist from opset 11 / 10. */
const MIN_OPSET = 11;

export interface QuantizeReport {
  /** MatMul/Gemm nodes rewritten. */
  quantized: number;
  /** Bytes of float weights replaced, and of the int8 weights + scales that replace them. */
  floatBytes: number;
  int8Bytes: number;
}

const num = (v: Int64 | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

function floatsOf(t: TensorProtoLike): Float32Array {
  if (t.data_location === 1) throw new DensekitError(`int8: weight ${t.name} is stored as external data; quantize the model before its weights are moved out of the graph`);
  if (t.raw_data && t.raw_data.byteLength > 0) {
    const raw = t.raw_data;
    // raw_data is little-endian; a copy also aligns it (a view into a decoded buffer may sit at any offset).
    const out = new Float32Array(raw.byteLength / 4);
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  return Float32Array.from(t.float_data ?? []);
}

function attr(node: NodeProtoLike, name: string): AttributeProtoLike | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** Round half to even, as ORT's quantizer (numpy.rint / std::nearbyint). */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** W [K, N] row-major -> int8 W_q [K, N] and one scale per column, symmetric. */
export function quantizeColumns(w: Float32Array, k: number, n: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) scales[j] = Math.max(scales[j]!, Math.abs(w[i * n + j]!));
  // An all-zero column gets scale 1 (any scale represents it exactly; 0 would divide by zero).
  for (let j = 0; j < n; j++) scales[j] = scales[j]! > 0 ? scales[j]! / 127 : 1;
  const q = new Int8Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) q[i * n + j] = Math.max(-127, Math.min(127, rint(w[i * n + j]! / scales[j]!)));
  return { q, scales };
}

/** [rows, cols] row-major -> [cols, rows]. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = w[i * cols + j]!;
  return t;
}

function bytesOf(a: Float32Array | Int8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

/**
 * Rewrites `model` in place (see the module header) and returns what it did. Refuses a model that has no
 * quantizable MatMul (nothing to gain: the caller asked for int8 on the wrong model) or an opset below 11.
 */
export function quantizeDynamicInt8(model: ModelProtoLike): QuantizeReport {
  const graph = model.graph;
  if (!graph?.node) throw new DensekitError('int8: the model has no graph');
  const opset = num(model.opset_import?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version);
  if (opset < MIN_OPSET) throw new DensekitError(`int8: the model's opset is ${opset}; dynamic quantization needs opset ${MIN_OPSET} or later`);
  const inits = new Map<string, TensorProtoLike>();
  for (const t of graph.initializer ?? []) if (t.name) inits.set(t.name, t);
  const uses = new Map<string, number>();
  for (const node of graph.node) for (const i of node.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const consumers = new Map<string, NodeProtoLike[]>();
  for (const node of graph.node) for (const i of node.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), node]);

  // Transpose(perm [1, 0]) of a 2-D float initializer: the weight of a Linear layer as the recorder writes it.
  const transposed = new Map<string, { node: NodeProtoLike; init: TensorProtoLike }>();
  for (const node of graph.node) {
    const src = node.input?.[0];
    const t = src !== undefined ? inits.get(src) : undefined;
    const perm = attr(node, 'perm')?.ints?.map(num);
    if (!node.domain && node.op_type === 'Transpose' && t?.data_type === FLOAT && t.dims?.length === 2 && perm?.length === 2 && perm[0] === 1 && perm[1] === 0)
      transposed.set(node.output![0]!, { node, init: t });
  }
  const deadNodes = new Set<NodeProtoLike>();
  const added: TensorProtoLike[] = [];
  const dropped = new Set<string>();
  const report: QuantizeReport = { quantized: 0, floatBytes: 0, int8Bytes: 0 };
  const out: NodeProtoLike[] = [];
  let serial = 0;

  for (const node of graph.node) {
    const op = node.domain ? undefined : node.op_type;
    const [a, b, c] = node.input ?? [];
    const viaTranspose = op === 'MatMul' && b !== undefined ? transposed.get(b) : undefined;
    const weight = viaTranspose ? viaTranspose.init : b !== undefined ? inits.get(b) : undefined;
    const ok = (op === 'MatMul' || op === 'Gemm') && a !== undefined && !inits.has(a) && weight !== undefined
      && weight.data_type === FLOAT && (weight.dims?.length ?? 0) === 2;
    if (!ok || (op === 'Gemm' && num(attr(node, 'transA')?.i) !== 0)) {
      out.push(node);
      continue;
    }
    const [d0, d1] = weight.dims!.map(num) as [number, number];
    let w = floatsOf(weight);
    if (w.length !== d0 * d1) throw new DensekitError(`int8: weight ${weight.name} holds ${w.length} values for shape [${d0}, ${d1}]`);
    let k = d0, n = d1;
    if (viaTranspose) {
      w = transpose(w, d0, d1);
      k = d1; n = d0;
    }
    let alpha = 1, bias: Float32Array | undefined;
    if (op === 'Gemm') {
      // Gemm(A, B, C) = alpha * A * B' + beta * C: B' = B^T when transB; alpha folds into the weight scales.
      if (num(attr(node, 'transB')?.i) === 1) {
        w = transpose(w, d0, d1);
        k = d1; n = d0;
      }
      alpha = attr(node, 'alpha')?.f ?? 1;
      if (c) {
        const bt = inits.get(c);
        const beta = attr(node, 'beta')?.f ?? 1;
        if (!bt || bt.data_type !== FLOAT || floatsOf(bt).length !== n) {
          out.push(node); // a bias computed in the graph, or broadcast in 2-D: leave this Gemm in fp32
          continue;
        }
        bias = floatsOf(bt).map((x) => x * beta);
      }
    }
    const { q, scales } = quantizeColumns(w, k, n);
    if (alpha !== 1) for (let j = 0; j < n; j++) scales[j]! *= alpha;
    const base = `${b}_int8_${serial++}`;
    const wq = `${base}_quantized`, ws = `${base}_scale`, wz = `${base}_zero_point`;
    added.push(
      { name: wq, dims: [k, n], data_type: INT8, raw_data: bytesOf(q) },
      { name: ws, dims: [n], data_type: FLOAT, raw_data: bytesOf(scales) },
      { name: wz, dims: [n], data_type: INT8, raw_data: new Uint8Array(n) },
    );
    report.floatBytes += w.byteLength;
    report.int8Bytes += q.byteLength + scales.byteLength + n;
    const p = `${node.name || base}/int8`;
    const y = node.output![0]!;
    const nodes: NodeProtoLike[] = [
      { name: `${p}/quantize_input`, op_type: 'DynamicQuantizeLinear', input: [a], output: [`${p}/x_q`, `${p}/x_scale`, `${p}/x_zero_point`] },
      { name: `${p}/matmul`, op_type: 'MatMulInteger', input: [`${p}/x_q`, wq, `${p}/x_zero_point`, wz], output: [`${p}/y_int32`] },
      { name: `${p}/cast`, op_type: 'Cast', input: [`${p}/y_int32`], output: [`${p}/y_float`], attribute: [{ name: 'to', type: ATTR_INT, i: FLOAT }] },
      { name: `${p}/scale`, op_type: 'Mul', input: [`${p}/x_scale`, ws], output: [`${p}/scale_out`] },
    ];
    if (bias) {
      const bn = `${base}_bias`;
      added.push({ name: bn, dims: [n], data_type: FLOAT, raw_data: bytesOf(bias) });
      nodes.push(
        { name: `${p}/rescale`, op_type: 'Mul', input: [`${p}/y_float`, `${p}/scale_out`], output: [`${p}/y_scaled`] },
        { name: `${p}/bias`, op_type: 'Add', input: [`${p}/y_scaled`, bn], output: [y] },
      );
      uses.set(c!, uses.get(c!)! - 1);
      if (uses.get(c!) === 0) dropped.add(c!);
    } else {
      nodes.push({ name: `${p}/rescale`, op_type: 'Mul', input: [`${p}/y_float`, `${p}/scale_out`], output: [y] });
      // A bias added by the next node: ORT fuses it only as the Add's second input, and Add commutes.
      const next = consumers.get(y);
      if (next?.length === 1 && !graphOutputs.has(y)) {
        const add = next[0]!;
        const ins = add.input ?? [];
        if (!add.domain && add.op_type === 'Add' && ins.length === 2 && ins[1] === y && inits.has(ins[0]!)) add.input = [ins[1]!, ins[0]!];
      }
    }
    out.push(...nodes);
    uses.set(b!, uses.get(b!)! - 1);
    if (uses.get(b!) === 0) {
      if (!viaTranspose) dropped.add(b!);
      else if (!graphOutputs.has(b!)) {
        // The Transpose fed only quantized products: it goes, and with it one use of its initializer.
        deadNodes.add(viaTranspose.node);
        const w0 = weight.name!;
        uses.set(w0, uses.get(w0)! - 1);
        if (uses.get(w0) === 0) dropped.add(w0);
      }
    }
    report.quantized++;
  }
  if (report.quantized === 0) throw new DensekitError('int8: the model has no MatMul or Gemm with a weight matrix to quantize');
  graph.node = out.filter((n) => !deadNodes.has(n));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !dropped.has(t.name ?? '')), ...added];
  return report;
}
