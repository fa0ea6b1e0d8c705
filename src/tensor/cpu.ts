/**
 * What this CPU can do fast, read at run time, and the one place that turns a requested precision ('auto',
 * 'fp32', 'bf16', 'fp16') into the one used.
 *
 * bf16 pays off on CPU only with native bfloat16 arithmetic: AVX512-BF16 (vdpbf16ps: Zen 4 and later, Cooper
 * Lake, Sapphire Rapids) or AMX-BF16 (Sapphire Rapids and later), which oneDNN inside libtorch uses for bf16
 * matrix products. Without them libtorch emulates bf16 by converting to fp32 and back, slower than plain fp32.
 * Measured on this project's Zen 4 machine (avx512_bf16, no AMX): DistilBERT-base bf16 2.3x fp32 passages/s,
 * with cosine >= 0.999 to the fp32 embeddings (test/models.bf16.test.ts).
 *
 * Flags come from /proc/cpuinfo (Linux; the kernel's names). Elsewhere no flag is known and 'auto' stays fp32.
 */
import { readFileSync } from 'node:fs';

export interface CpuCapabilities {
  /** The kernel's flag names, e.g. 'avx512f', 'avx512_bf16', 'amx_bf16'. Empty when unknown. */
  flags: ReadonlySet<string>;
  /** AVX512-BF16 or AMX-BF16: bf16 matrix products run natively. */
  nativeBf16: boolean;
}

/** Capabilities from the text of /proc/cpuinfo (the first "flags" line; every core reports the same). */
export function parseCpuFlags(cpuinfo: string): CpuCapabilities {
  const line = /^flags\s*:\s*(.*)$/m.exec(cpuinfo);
  const flags = new Set(line ? line[1]!.trim().split(/\s+/) : []);
  return { flags, nativeBf16: flags.has('avx512_bf16') || flags.has('amx_bf16') };
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

export type RequestedPrecision = 'auto' | 'fp32' | 'bf16' | 'fp16';

export interface PrecisionChoice {
  dtype: 'fp32' | 'bf16' | 'fp16';
  /** One line saying what was picked and why (the CLI prints it on stderr). */
  note: string;
  /** Set when the request will run slower than the alternative (bf16 without native bf16). */
  warning?: string;
}

/**
 * The precision to run an encoder in. 'auto': bf16 on a CPU with native bf16, fp32 elsewhere (and on CUDA,
 * where the choice depends on the GPU and fp32 is the exact one). An explicit request is kept; bf16 on a CPU
 * without native bf16 gets a warning.
 */
export function choosePrecision(requested: RequestedPrecision, device: string = 'cpu', cpu: CpuCapabilities = cpuCapabilities()): PrecisionChoice {
  const onCpu = device === 'cpu';
  const has = [...['avx512_bf16', 'amx_bf16'].filter((f) => cpu.flags.has(f))].join(', ');
  if (requested === 'auto') {
    if (onCpu && cpu.nativeBf16) return { dtype: 'bf16', note: `dtype auto: bf16 (this CPU has ${has})` };
    return { dtype: 'fp32', note: onCpu ? 'dtype auto: fp32 (no avx512_bf16 or amx_bf16 on this CPU)' : `dtype auto: fp32 on ${device}` };
  }
  if (requested === 'bf16' && onCpu && !cpu.nativeBf16) {
    return {
      dtype: 'bf16', note: 'dtype bf16',
      warning: 'bf16 requested on a CPU without avx512_bf16 or amx_bf16: libtorch emulates it, slower than fp32',
    };
  }
  return { dtype: requested, note: `dtype ${requested}` };
}
