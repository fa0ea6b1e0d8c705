/** Element types of tensors and the numeric codes the native addon uses for them. */
export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** Codes shared with native/densekit.cc (kDTypes, same order). int16 exists only for reading host tensors. */
const CODES = ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int8', 'uint8', 'bool', 'int16'] as const;
export type NativeDType = (typeof CODES)[number];

const CODE_OF: ReadonlyMap<string, number> = new Map(CODES.map((name, code) => [name, code]));

export function dtypeCode(dtype: NativeDType): number {
  const code = CODE_OF.get(dtype);
  if (code === undefined) throw new Error(`unknown dtype '${dtype}' (expected one of ${CODES.slice(0, 9).join(', ')})`);
  return code;
}

export function dtypeFromCode(code: number): DType {
  const name = CODES[code];
  if (name === undefined || name === 'int16') throw new Error(`native addon returned unsupported dtype code ${code}`);
  return name;
}

export function isDType(value: string): value is DType {
  return CODE_OF.has(value) && value !== 'int16';
}

export function isFloatingDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}
