/**
 * int8 storage for the first-stage scan, rescored in float32 afterwards (the trick sentence-transformers'
 * quantization uses). Unlike its calibrated min/max mapping (an affine map whose offset biases inner
 * products), each dimension gets a symmetric scale s_j = max|x_j| / 127 over the collection: documents
 * store round(x_j / s_j), and a query is coded as round(lambda * q_j * s_j). Their integer inner product is
 * then lambda * sum_j q_j x_j up to rounding, so the int8 ranking approximates the float ranking without bias.
 */
export function int8Scales(maxAbs: Float32Array): Float32Array {
  const s = new Float32Array(maxAbs.length);
  for (let j = 0; j < s.length; j++) s[j] = maxAbs[j]! > 0 ? maxAbs[j]! / 127 : 1;
  return s;
}

export function quantizeRows(src: Float32Array, scales: Float32Array, out: Int8Array, outOffset = 0): void {
  const dim = scales.length;
  for (let i = 0; i < src.length; i++) {
    const v = Math.round(src[i]! / scales[i % dim]!);
    out[outOffset + i] = v > 127 ? 127 : v < -127 ? -127 : v;
  }
}

/** Codes queries so that int8 dot products are proportional to float dot products with the documents. */
export function quantizeQueries(queries: Float32Array, scales: Float32Array): Int8Array {
  const dim = scales.length;
  const out = new Int8Array(queries.length);
  for (let q = 0; q < queries.length / dim; q++) {
    let max = 0;
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(queries[q * dim + j]! * scales[j]!));
    const lambda = max > 0 ? 127 / max : 1;
    for (let j = 0; j < dim; j++) {
      const v = Math.round(lambda * queries[q * dim + j]! * scales[j]!);
      out[q * dim + j] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return out;
}

/**
 * bfloat16 storage: the high 16 bits of each float32, rounded to nearest even (as torch's .to(bfloat16)).
 * 8 significant bits: a unit vector's inner products move by ~2^-9 relative, so a bf16 scan proposes
 * candidates that are rescored in float32, like int8, at half float32's bytes and with no calibration.
 */
export function toBfloat16(src: Float32Array, out: Uint16Array, outOffset = 0): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    // NaN stays NaN (a carry could turn it into infinity); everything else rounds to nearest, ties to even.
    out[outOffset + i] = (b & 0x7fffffff) > 0x7f800000 ? (b >>> 16) | 0x40 : ((b + 0x7fff + ((b >>> 16) & 1)) / 65536) & 0xffff;
  }
}
