/**
 * Devices: the one place a device name is parsed and checked against the libtorch the addon runs on.
 * `cpu`, `cuda` (the current CUDA device), `cuda:N`, and `meta` (tensors with a shape and dtype but no storage:
 * what PyTorch uses to plan a model's memory without allocating it).
 */
import { UsageError } from '../errors.js';
import { native } from './native.js';

export type Device = 'cpu' | 'meta' | 'cuda' | `cuda:${number}`;

const SYNTAX = /^(cpu|meta|cuda|cuda:(0|[1-9]\d{0,3}))$/;

/** Syntax only (no addon call): used on every tensor creation, where libtorch reports what it cannot do. */
export function checkDevice(device: string): Device {
  if (SYNTAX.test(device)) return device as Device;
  throw new UsageError(`unknown device '${device}' (expected cpu, cuda or cuda:N)`);
}

/** Syntax and availability: a CUDA device this libtorch build cannot reach is refused in one line. */
export function resolveDevice(name: string): Device {
  const device = checkDevice(name.trim());
  if (!device.startsWith('cuda')) return device;
  const count = native().cudaDeviceCount();
  if (count === 0) {
    throw new UsageError(
      `device '${device}': the libtorch ${native().libtorchVersion()} this addon is built against sees no CUDA device ` +
        '(a CPU-only build, or no GPU visible); use cpu, or rebuild against a CUDA libtorch (LIBTORCH=..., see README)',
    );
  }
  const index = device === 'cuda' ? 0 : Number(device.slice('cuda:'.length));
  if (index >= count) throw new UsageError(`device '${device}' does not exist: libtorch sees ${count} CUDA device(s), cuda:0..cuda:${count - 1}`);
  return device;
}

/** The autocast device type of a device (torch.autocast's device_type). */
export function deviceType(device: Device): 'cpu' | 'cuda' {
  return device.startsWith('cuda') ? 'cuda' : 'cpu';
}
