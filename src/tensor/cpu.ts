/**
 * What this CPU can do fast, read at run time, and the one place that turns a requested precision ('auto',
 * 'fp32', 'bf16', 'int8', 'fp16') into the one used.
 *
 * bf16 pays off on CPU only with native bfloat16 arithmetic: AVX512-BF16 (vdpbf16ps: Zen 4 and later, Cooper
 * Lake, Sapphire Rapids) or AMX-BF16 (Sapphire Rapids and later), which oneDNN inside libtorch uses for bf16
 * matrix products. Without them libtorch emulates bf16 by converting to fp32 and back, slower than plain fp32.
 * int8 (dynamic quantization of the linear layers, torch.ao's quantize_dynamic) pays off with VNNI (vpdpbusd:
 * AVX512-VNNI from Cascade Lake and Zen 4, AVX-VNNI on Alder Lake) or AMX-INT8, whose int8 dot products do twice
 * bf16's work per instruction; libtorch runs them through fbgemm (PyTorch's wheels) or oneDNN (Debian's build).
 *
 * Measured on this project's Zen 4 machine (avx512_bf16, avx512_vnni, no AMX), DistilBERT-base, 2 threads
 * (`npm run bench:encode`): bf16 2.0x fp32 passages/s (cosine to fp32 >= 0.99999), int8 2.7x (cosine >= 0.9998),
 * the latter 1.1x transformers.js's q8 on the same batches.
 *
 * 'auto' picks bf16 where bf16 is native, else fp32; never int8. int8's activations are quantized with one scale
 * per forward pass over the whole batch (as in PyTorch's, ONNX Runtime's and transformers.js's dynamic
 * quantization), so a text's vector moves with the other texts batched with it: alone vs in a batch of six, cosine
 * 0.9990-0.9995 on the fixtures, ~10x bf16's movement (0.99996, rounding only; fp32 does not move: 1e-6). A sharded
 * or resumed encode would then differ from a whole one, and a service query with the traffic beside it
 * (test/models.int8.test.ts measures it; test/encode.shard.test.ts asserts sharded = whole). int8 is there for
 * whoever asks (`--dtype int8`), and the auto note says so where the CPU runs it fast.
 *
 * Flags come from /proc/cpuinfo (Linux; the kernel's names). Elsewhere no flag is known and 'auto' stays fp32.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { int8Engine as libtorchInt8Engine } from './system.js';

export interface CpuCapabilities {
  /** The kernel's flag names, e.g. 'avx512f', 'avx512_bf16', 'amx_bf16'. Empty when unknown. */
  flags: ReadonlySet<string>;
  /** AVX512-BF16 or AMX-BF16: bf16 matrix products run natively. */
  nativeBf16: boolean;
  /** AVX512-VNNI, AVX-VNNI or AMX-INT8: int8 dot products run natively. */
  int8Dot: boolean;
}

/** Capabilities from the text of /proc/cpuinfo (the first "flags" line; every core reports the same). */
export function parseCpuFlags(cpuinfo: string): CpuCapabilities {
  const line = /^flags\s*:\s*(.*)$/m.exec(cpuinfo);
  const flags = new Set(line ? line[1]!.trim().split(/\s+/) : []);
  return {
    flags,
    nativeBf16: flags.has('avx512_bf16') || flags.has('amx_bf16'),
    int8Dot: flags.has('avx512_vnni') || flags.has('avx_vnni') || flags.has('amx_int8'),
  };
}

let cached: CpuCapabilities | undefined;

/** This machine's capabilities (read once). */
export function cpuCapabilities(): CpuCapabilities {
  if (cached) return cached;
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    text = ''; // not Linux: no flag known, so 'auto' picks fp32
  }
  cached = parseCpuFlags(text);
  return cached;
}

export type RequestedPrecision = 'auto' | 'fp32' | 'bf16' | 'int8' | 'fp16';

export interface PrecisionChoice {
  dtype: 'fp32' | 'bf16' | 'int8' | 'fp16';
  /** One line saying what was picked and why (the CLI prints it on stderr). */
  note: string;
  /** Set when the request will run slower than the alternative (bf16 without native bf16, int8 without VNNI). */
  warning?: string;
}

const listed = (cpu: CpuCapabilities, names: string[]) => names.filter((f) => cpu.flags.has(f)).join(', ');
const INT8_FLAGS = ['avx512_vnni', 'avx_vnni', 'amx_int8'];
const BF16_FLAGS = ['avx512_bf16', 'amx_bf16'];

/**
 * The precision to run an encoder in. 'auto' on the CPU: bf16 with native bf16, else fp32 (see the header for
 * why never int8); on CUDA fp32 (the choice depends on the GPU, and fp32 is the exact one). An explicit request is
 * kept; bf16 without native bf16, or int8 without VNNI, gets a warning; int8 without an int8 engine, or off the
 * CPU, is refused. `int8Engine` is libtorch's ('fbgemm' | 'onednn' | ''), asked of the addon only when int8 is
 * requested: 'auto' reads /proc/cpuinfo alone (it must not load libtorch, e.g. in a BM25-only service).
 */
export function choosePrecision(
  requested: RequestedPrecision, device: string = 'cpu', cpu: CpuCapabilities = cpuCapabilities(), int8Engine: () => string = libtorchInt8Engine,
): PrecisionChoice {
  const onCpu = device === 'cpu';
  if (requested === 'auto') {
    if (!onCpu) return { dtype: 'fp32', note: `dtype auto: fp32 on ${device}` };
    const fasterInt8 = cpu.int8Dot ? `; --dtype int8 is faster here (${listed(cpu, INT8_FLAGS)}), with vectors that depend on their batch` : '';
    if (cpu.nativeBf16) return { dtype: 'bf16', note: `dtype auto: bf16 (this CPU has ${listed(cpu, BF16_FLAGS)}${fasterInt8})` };
    return { dtype: 'fp32', note: `dtype auto: fp32 (no avx512_bf16 or amx_bf16 on this CPU${fasterInt8})` };
  }
  if (requested === 'int8') {
    if (!onCpu) throw new UsageError(`--dtype int8 runs on the CPU only (libtorch's int8 engines); on ${device} use fp16, bf16 or fp32`);
    const engine = int8Engine();
    if (!engine) throw new UsageError(`--dtype int8: the libtorch this addon is built against has no x86 int8 engine (fbgemm or onednn); use --dtype bf16 or fp32`);
    if (!cpu.int8Dot) return { dtype: 'int8', note: `dtype int8 (${engine})`, warning: 'int8 requested on a CPU without avx512_vnni, avx_vnni or amx_int8: its int8 products are not native, and may be no faster than fp32' };
    return { dtype: 'int8', note: `dtype int8 (${engine})` };
  }
  if (requested === 'bf16' && onCpu && !cpu.nativeBf16) {
    return {
      dtype: 'bf16', note: 'dtype bf16',
      warning: 'bf16 requested on a CPU without avx512_bf16 or amx_bf16: libtorch emulates it, slower than fp32',
    };
  }
  return { dtype: requested, note: `dtype ${requested}` };
}
