// densekit native addon: a thin N-API layer over libtorch (ATen + autograd).
//
// Every tensor crosses into JS as an integer handle: a slot in a per-thread table of at::Tensor. JS frees it
// deterministically with `dispose` (the slot's at::Tensor is reset at once); src/tensor also registers each JS
// Tensor with a FinalizationRegistry that disposes tensors collected without dispose(). Integer handles cost
// far less per op than napi Externals with finalizers or ObjectWrap instances (no per-op weak handle). The
// module holds no JS references and no global JS state, so it loads in worker_threads; grad mode and autocast
// are libtorch thread-locals, so each JS thread has its own.
//
// Each exported function runs through `Trampoline`, which turns libtorch (c10::Error) and argument errors into
// JS Errors "<op>: <first line of libtorch's message>".
//
// This module is internal: src/tensor/ is its only caller and passes well-typed arguments; the checks here only
// guard against crashes.

#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <c10/core/GradMode.h>
#include <torch/version.h>

#include "scan-kernel.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Handles and errors

// Per-JS-thread table of live tensors. Handles are slot indices (small integers, so JS keeps them as Smis and
// passing one costs nothing); freed slots are reused. The JS side marks a disposed tensor's handle as -1, so a
// stale handle never reaches a reused slot.
// An int8-packed linear weight (LinearInt8Pack below): the quantized engine's packed form and the
// activation range it was packed for.
struct PackedInt8 {
  c10::intrusive_ptr<LinearPackedParamsBase> params;
  bool reduceRange = false;
};

struct Table {
  std::vector<at::Tensor> slots;
  std::vector<int32_t> free;
  int64_t live = 0;
  // packed[id]: the packed form of the int8 weight in slots[id] (empty for every other slot). Reset whenever
  // the slot is freed or reused, so a handle never finds another tensor's packing.
  std::vector<PackedInt8> packed;
};


// One table per thread, i.e. per JS environment (main thread, each worker). Heap-allocated and freed by the
// environment's cleanup hook, never by static destructors (which may run after libtorch's own globals are gone).
thread_local Table* table = nullptr;

void ForgetPacked(int32_t id) {
  if (static_cast<size_t>(id) < table->packed.size()) table->packed[id] = PackedInt8{};
}

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string FirstLine(const char* message) {
  std::string s(message);
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) throw ArgError("libtorch returned an undefined tensor");
  int32_t id;
  if (!table->free.empty()) {
    id = table->free.back();
    table->free.pop_back();
    table->slots[id] = std::move(t);
    ForgetPacked(id);
  } else {
    if (table->slots.size() >= static_cast<size_t>(INT32_MAX)) throw ArgError("too many live tensors");
    id = static_cast<int32_t>(table->slots.size());
    table->slots.push_back(std::move(t));
  }
  ++table->live;
  return Napi::Number::New(env, id);
}

int32_t HandleAt(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw ArgError("argument " + std::to_string(i) + " is not a tensor handle");
  int32_t id = info[i].As<Napi::Number>().Int32Value();
  if (id < 0) throw ArgError("tensor is disposed");
  if (static_cast<size_t>(id) >= table->slots.size() || !table->slots[id].defined()) {
    throw ArgError("argument " + std::to_string(i) + " is not a live tensor handle");
  }
  return id;
}

const at::Tensor& Ten(const Napi::CallbackInfo& info, size_t i) { return table->slots[HandleAt(info, i)]; }

// The receiver of an in-place op.
at::Tensor& Mut(const Napi::CallbackInfo& info) { return table->slots[HandleAt(info, 0)]; }

bool Absent(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}

c10::optional<at::Tensor> OptTen(const Napi::CallbackInfo& info, size_t i) {
  if (Absent(info, i)) return c10::nullopt;
  return Ten(info, i);
}

double Num(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw ArgError("argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

int64_t Int(const Napi::CallbackInfo& info, size_t i) {
  double d = Num(info, i);
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740992.0) {
    throw ArgError("argument " + std::to_string(i) + " must be an integer, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

c10::optional<int64_t> OptInt(const Napi::CallbackInfo& info, size_t i) {
  if (Absent(info, i)) return c10::nullopt;
  return Int(info, i);
}

bool Bool(const Napi::CallbackInfo& info, size_t i, bool fallback) {
  if (Absent(info, i)) return fallback;
  return info[i].ToBoolean().Value();
}

// A JS number as a libtorch Scalar. Integral values become integer Scalars, as a Python int literal would:
// `intTensor.add(1)` stays integral and `x.pow(2)` takes the same kernel path as `x ** 2`.
at::Scalar NumberToScalar(double d) {
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) <= 9007199254740992.0 && !(d == 0 && std::signbit(d))) {
    return at::Scalar(static_cast<int64_t>(d));
  }
  return at::Scalar(d);
}

at::Scalar Sc(const Napi::CallbackInfo& info, size_t i) { return NumberToScalar(Num(info, i)); }

c10::optional<at::Scalar> OptSc(const Napi::CallbackInfo& info, size_t i) {
  if (Absent(info, i)) return c10::nullopt;
  return Sc(info, i);
}

bool IsNumberArg(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && info[i].IsNumber(); }

// A number or an array of numbers as an int list.
std::vector<int64_t> Ints(const Napi::CallbackInfo& info, size_t i) {
  if (IsNumberArg(info, i)) return {Int(info, i)};
  if (i >= info.Length() || !info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " must be an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) throw ArgError("argument " + std::to_string(i) + "[" + std::to_string(k) + "] must be an integer");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::trunc(d)) throw ArgError("argument " + std::to_string(i) + "[" + std::to_string(k) + "] must be an integer");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

std::vector<at::Tensor> TensorList(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " must be an array of tensors");
  auto arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    int32_t id = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : INT32_MIN;
    if (id == -1) throw ArgError("tensor " + std::to_string(k) + " of the list is disposed");
    if (id < 0 || static_cast<size_t>(id) >= table->slots.size() || !table->slots[id].defined()) {
      throw ArgError("element " + std::to_string(k) + " is not a live tensor handle");
    }
    out.push_back(table->slots[id]);
  }
  return out;
}

// dtype codes shared with src/tensor/dtype.ts (same order).
const at::ScalarType kDTypes[] = {
    at::kFloat, at::kHalf, at::kBFloat16, at::kDouble, at::kLong, at::kInt, at::kChar, at::kByte, at::kBool, at::kShort,
};
constexpr int kNumDTypes = sizeof(kDTypes) / sizeof(kDTypes[0]);

at::ScalarType DT(const Napi::CallbackInfo& info, size_t i) {
  int64_t code = Int(info, i);
  if (code < 0 || code >= kNumDTypes) throw ArgError("unknown dtype code " + std::to_string(code));
  return kDTypes[code];
}

int DTypeCode(at::ScalarType st) {
  // The weights of an int8-packed linear (LinearInt8Pack): per-channel qint8, i.e. int8 codes plus scales.
  if (st == at::kQInt8) st = at::kChar;
  for (int k = 0; k < kNumDTypes; k++) {
    if (kDTypes[k] == st) return k;
  }
  throw ArgError(std::string("unsupported dtype ") + c10::toString(st));
}

at::Device Dev(const Napi::CallbackInfo& info, size_t i) {
  if (Absent(info, i)) return at::Device(at::kCPU);
  if (!info[i].IsString()) throw ArgError("argument " + std::to_string(i) + " must be a device string");
  return at::Device(info[i].As<Napi::String>().Utf8Value());
}

at::TensorOptions Opts(const Napi::CallbackInfo& info, size_t dtypeArg, size_t deviceArg) {
  return at::TensorOptions().dtype(DT(info, dtypeArg)).device(Dev(info, deviceArg));
}

int64_t ReductionCode(const Napi::CallbackInfo& info, size_t i) {
  if (Absent(info, i)) return at::Reduction::Mean;
  std::string r = info[i].As<Napi::String>().Utf8Value();
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw ArgError("reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}

Napi::Value Pair(Napi::Env env, std::tuple<at::Tensor, at::Tensor> p) {
  auto arr = Napi::Array::New(env, 2);
  arr.Set(0u, Wrap(env, std::move(std::get<0>(p))));
  arr.Set(1u, Wrap(env, std::move(std::get<1>(p))));
  return arr;
}

std::vector<int64_t> AllDims(const at::Tensor& t) {
  std::vector<int64_t> dims(t.dim());
  for (int64_t k = 0; k < t.dim(); k++) dims[k] = k;
  return dims;
}

// ---------------------------------------------------------------------------------------------------------------
// Op table plumbing

using OpFn = Napi::Value (*)(const Napi::CallbackInfo&);

struct Op {
  const char* name;   // the export
  OpFn fn;
  const char* label = nullptr;  // the op named in error messages (the Tensor method), when it differs from the export
};

Napi::Value Trampoline(const Napi::CallbackInfo& info) {
  const Op* op = static_cast<const Op*>(info.Data());
  try {
    return op->fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string(op->label ? op->label : op->name) + ": " + FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(op->label ? op->label : op->name) + ": " + FirstLine(e.what()));
  } catch (...) {
    throw Napi::Error::New(info.Env(), std::string(op->label ? op->label : op->name) + ": unknown native error");
  }
}

#define T0 Ten(info, 0)
#define RET(expr) return Wrap(info.Env(), (expr))
#define UNDEF return info.Env().Undefined()

template <at::Tensor (*F)(const at::Tensor&)>
Napi::Value Unary(const Napi::CallbackInfo& info) {
  RET(F(T0));
}

// Binary ops come in pairs: `op(a, b)` with a tensor operand, `opScalar(a, x)` with a JS number (PyTorch's
// Tensor/Scalar overloads). Handles are numbers too, so the TS side picks the export.
template <at::Tensor (*F)(const at::Tensor&, const at::Tensor&)>
Napi::Value BinaryT(const Napi::CallbackInfo& info) {
  RET(F(T0, Ten(info, 1)));
}
template <at::Tensor (*F)(const at::Tensor&, const at::Scalar&)>
Napi::Value BinaryS(const Napi::CallbackInfo& info) {
  RET(F(T0, Sc(info, 1)));
}

// ---------------------------------------------------------------------------------------------------------------
// Handles, metadata, host transfer

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  int32_t id = HandleAt(info, 0);
  table->slots[id].reset();
  ForgetPacked(id);
  table->free.push_back(id);
  --table->live;
  UNDEF;
}

Napi::Value LiveCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(table->live)); }

Napi::Value Shape(const Napi::CallbackInfo& info) {
  const at::Tensor& t = T0;
  auto sizes = t.sizes();
  auto arr = Napi::Array::New(info.Env(), sizes.size());
  for (size_t k = 0; k < sizes.size(); k++) arr.Set(static_cast<uint32_t>(k), Napi::Number::New(info.Env(), static_cast<double>(sizes[k])));
  return arr;
}

Napi::Value DTypeOf(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), DTypeCode(T0.scalar_type())); }
Napi::Value DeviceOf(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), T0.device().str()); }
Napi::Value Numel(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(T0.numel())); }

// fromBytes(bytes: Uint8Array, srcDtype, shape, dstDtype, device): copies little-endian C-order bytes.
Napi::Value FromBytes(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw ArgError("argument 0 must be a Uint8Array");
  auto bytes = info[0].As<Napi::Uint8Array>();
  at::ScalarType src = DT(info, 1);
  std::vector<int64_t> shape = Ints(info, 2);
  at::ScalarType dst = DT(info, 3);
  at::Device device = Dev(info, 4);
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ArgError("negative dimension in shape");
    n *= d;
  }
  size_t expected = static_cast<size_t>(n) * c10::elementSize(src);
  if (bytes.ByteLength() != expected) {
    throw ArgError("expected " + std::to_string(expected) + " bytes for " + std::to_string(n) + " " + c10::toString(src) +
                   " elements, got " + std::to_string(bytes.ByteLength()));
  }
  at::TensorOptions target = at::TensorOptions().dtype(dst).device(device);
  if (device.is_meta()) RET(at::empty(shape, target));
  // Converting or moving: read the bytes in place, so a checkpoint's tensor costs only its final copy (a
  // multi-GB model loads without a second copy of each weight). Aligned data only: kernels may assume it.
  if ((dst != src || !device.is_cpu()) && reinterpret_cast<uintptr_t>(bytes.Data()) % c10::elementSize(src) == 0) {
    at::Tensor view = at::from_blob(bytes.Data(), shape, at::TensorOptions().dtype(src));
    RET(view.to(target, /*non_blocking=*/false, /*copy=*/true));
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(src));
  if (expected) std::memcpy(t.data_ptr(), bytes.Data(), expected);
  if (dst != src || device != t.device()) t = t.to(device, dst);
  RET(std::move(t));
}

// copyBytes_(t, bytes, srcDtype, elementOffset): converts little-endian C-order bytes of srcDtype into t's flat
// elements [elementOffset, elementOffset + n), on t's device: a checkpoint tensor fills its parameter a piece at a
// time through one small buffer, so loading holds no copy of a whole tensor besides the parameter itself.
Napi::Value CopyBytesInplace(const Napi::CallbackInfo& info) {
  at::Tensor& t = Mut(info);
  if (!info[1].IsTypedArray()) throw ArgError("argument 1 must be a Uint8Array");
  auto bytes = info[1].As<Napi::Uint8Array>();
  at::ScalarType src = DT(info, 2);
  int64_t offset = Int(info, 3);
  size_t es = c10::elementSize(src);
  if (bytes.ByteLength() % es != 0) throw ArgError("byte count is not a multiple of the element size");
  int64_t n = static_cast<int64_t>(bytes.ByteLength() / es);
  if (!t.is_contiguous()) throw ArgError("target tensor is not contiguous");
  if (offset < 0 || offset + n > t.numel()) throw ArgError("elements [" + std::to_string(offset) + ", " + std::to_string(offset + n) + ") lie outside the tensor's " + std::to_string(t.numel()));
  if (n == 0 || t.is_meta()) UNDEF;
  c10::AutoGradMode no_grad(false);
  at::Tensor piece;
  if (reinterpret_cast<uintptr_t>(bytes.Data()) % es == 0) {
    piece = at::from_blob(bytes.Data(), {n}, at::TensorOptions().dtype(src));
  } else {
    piece = at::empty({n}, at::TensorOptions().dtype(src));
    std::memcpy(piece.data_ptr(), bytes.Data(), bytes.ByteLength());
  }
  t.view({-1}).narrow(0, offset, n).copy_(piece);
  UNDEF;
}

// toBytes(t, dtype) -> ArrayBuffer: one copy (with conversion, gather of strides, device transfer) into JS memory.
Napi::Value ToBytes(const Napi::CallbackInfo& info) {
  const at::Tensor& src = T0;
  at::ScalarType dt = DT(info, 1);
  size_t nbytes = static_cast<size_t>(src.numel()) * c10::elementSize(dt);
  auto ab = Napi::ArrayBuffer::New(info.Env(), nbytes);
  if (nbytes) {
    c10::AutoGradMode no_grad(false);
    at::Tensor dst = at::from_blob(ab.Data(), src.sizes(), at::TensorOptions().dtype(dt));
    dst.copy_(src);
  }
  return ab;
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  at::Scalar s = T0.item();
  if (s.isBoolean()) return Napi::Number::New(info.Env(), s.toBool() ? 1 : 0);
  if (s.isIntegral(false)) {
    int64_t v = s.toLong();
    if (v > 9007199254740991LL || v < -9007199254740991LL) throw ArgError("value " + std::to_string(v) + " is not exactly representable as a JS number");
    return Napi::Number::New(info.Env(), static_cast<double>(v));
  }
  return Napi::Number::New(info.Env(), s.toDouble());
}

Napi::Value ToDType(const Napi::CallbackInfo& info) { RET(T0.to(DT(info, 1))); }
Napi::Value ToDevice(const Napi::CallbackInfo& info) { RET(T0.to(Dev(info, 1))); }
// setData_(t, src): t's handle now holds src's data (PyTorch's `param.data = src`, as Module.to does it), keeping
// requires_grad and moving an accumulated gradient along, so every reference to the parameter stays valid.
Napi::Value SetDataInplace(const Napi::CallbackInfo& info) {
  at::Tensor& t = Mut(info);
  if (!t.is_leaf()) throw ArgError("only a leaf tensor (a parameter) can take new data");
  at::Tensor fresh = Ten(info, 1).detach();
  at::Tensor grad = t.grad();
  if (t.requires_grad()) fresh.requires_grad_(true);
  if (grad.defined()) fresh.mutable_grad() = grad.to(fresh.device(), fresh.scalar_type());
  t = fresh;
  UNDEF;
}
Napi::Value Clone(const Napi::CallbackInfo& info) { RET(T0.clone()); }
Napi::Value Contiguous(const Napi::CallbackInfo& info) { RET(T0.contiguous()); }

// ---------------------------------------------------------------------------------------------------------------
// Autograd

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), T0.requires_grad()); }
Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  Ten(info, 0).requires_grad_(Bool(info, 1, true));
  UNDEF;
}
Napi::Value Grad(const Napi::CallbackInfo& info) {
  const at::Tensor& g = T0.grad();
  if (!g.defined()) return info.Env().Null();
  RET(g);
}
Napi::Value Backward(const Napi::CallbackInfo& info) {
  c10::optional<at::Tensor> gradient = OptTen(info, 1);
  T0.backward(gradient.has_value() ? *gradient : at::Tensor());
  UNDEF;
}
Napi::Value Detach(const Napi::CallbackInfo& info) { RET(T0.detach()); }
Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
  // PyTorch's zero_grad(set_to_none=True): drop the gradient rather than filling it with zeros.
  Mut(info).mutable_grad() = at::Tensor();
  UNDEF;
}

// ---------------------------------------------------------------------------------------------------------------
// Shape ops

Napi::Value Reshape(const Napi::CallbackInfo& info) { RET(T0.reshape(Ints(info, 1))); }
Napi::Value View(const Napi::CallbackInfo& info) { RET(T0.view(Ints(info, 1))); }
Napi::Value Transpose(const Napi::CallbackInfo& info) { RET(T0.transpose(Int(info, 1), Int(info, 2))); }
Napi::Value Permute(const Napi::CallbackInfo& info) { RET(T0.permute(Ints(info, 1))); }
Napi::Value Unsqueeze(const Napi::CallbackInfo& info) { RET(T0.unsqueeze(Int(info, 1))); }
Napi::Value Squeeze(const Napi::CallbackInfo& info) {
  if (Absent(info, 1)) RET(T0.squeeze());
  RET(T0.squeeze(Int(info, 1)));
}
Napi::Value Expand(const Napi::CallbackInfo& info) { RET(T0.expand(Ints(info, 1))); }
Napi::Value Slice(const Napi::CallbackInfo& info) {
  RET(at::slice(T0, Int(info, 1), OptInt(info, 2), OptInt(info, 3), Absent(info, 4) ? 1 : Int(info, 4)));
}
Napi::Value Select(const Napi::CallbackInfo& info) { RET(T0.select(Int(info, 1), Int(info, 2))); }
Napi::Value Narrow(const Napi::CallbackInfo& info) { RET(T0.narrow(Int(info, 1), Int(info, 2), Int(info, 3))); }
Napi::Value IndexSelect(const Napi::CallbackInfo& info) { RET(at::index_select(T0, Int(info, 1), Ten(info, 2))); }
Napi::Value Gather(const Napi::CallbackInfo& info) { RET(at::gather(T0, Int(info, 1), Ten(info, 2))); }
Napi::Value Flatten(const Napi::CallbackInfo& info) {
  RET(at::flatten(T0, Absent(info, 1) ? 0 : Int(info, 1), Absent(info, 2) ? -1 : Int(info, 2)));
}
Napi::Value Repeat(const Napi::CallbackInfo& info) { RET(T0.repeat(Ints(info, 1))); }

// ---------------------------------------------------------------------------------------------------------------
// Elementwise

at::Scalar Alpha(const Napi::CallbackInfo& info) { return Absent(info, 2) ? at::Scalar(int64_t(1)) : Sc(info, 2); }
Napi::Value Add(const Napi::CallbackInfo& info) { RET(at::add(T0, Ten(info, 1), Alpha(info))); }
Napi::Value AddScalar(const Napi::CallbackInfo& info) { RET(at::add(T0, Sc(info, 1), Alpha(info))); }
Napi::Value Sub(const Napi::CallbackInfo& info) { RET(at::sub(T0, Ten(info, 1), Alpha(info))); }
Napi::Value SubScalar(const Napi::CallbackInfo& info) { RET(at::sub(T0, Sc(info, 1), Alpha(info))); }
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  std::string approximate = Absent(info, 1) ? "none" : info[1].As<Napi::String>().Utf8Value();
  RET(at::gelu(T0, approximate));
}
Napi::Value Clamp(const Napi::CallbackInfo& info) { RET(at::clamp(T0, OptSc(info, 1), OptSc(info, 2))); }
Napi::Value Where(const Napi::CallbackInfo& info) {
  // where(self, cond, other) = torch.where(cond, self, other)
  RET(at::where(Ten(info, 1), T0, Ten(info, 2)));
}
Napi::Value WhereScalar(const Napi::CallbackInfo& info) { RET(at::where(Ten(info, 1), T0, Sc(info, 2))); }
Napi::Value MaskedFill(const Napi::CallbackInfo& info) { RET(at::masked_fill(T0, Ten(info, 1), Sc(info, 2))); }
Napi::Value Cumsum(const Napi::CallbackInfo& info) { RET(at::cumsum(T0, Int(info, 1))); }
Napi::Value Triu(const Napi::CallbackInfo& info) { RET(at::triu(T0, Absent(info, 1) ? 0 : Int(info, 1))); }
Napi::Value LogicalAnd(const Napi::CallbackInfo& info) { RET(at::logical_and(T0, Ten(info, 1))); }
Napi::Value Matmul(const Napi::CallbackInfo& info) { RET(at::matmul(T0, Ten(info, 1))); }
Napi::Value Bmm(const Napi::CallbackInfo& info) { RET(at::bmm(T0, Ten(info, 1))); }
Napi::Value Mm(const Napi::CallbackInfo& info) { RET(at::mm(T0, Ten(info, 1))); }

// ---------------------------------------------------------------------------------------------------------------
// Reductions. dims absent = all dimensions; without keepdim that is PyTorch's full reduction (x.sum()).

Napi::Value Sum(const Napi::CallbackInfo& info) {
  bool keepdim = Bool(info, 2, false);
  if (Absent(info, 1)) RET(keepdim ? at::sum(T0, AllDims(T0), true) : at::sum(T0));
  RET(at::sum(T0, Ints(info, 1), keepdim));
}
Napi::Value Mean(const Napi::CallbackInfo& info) {
  bool keepdim = Bool(info, 2, false);
  if (Absent(info, 1)) RET(keepdim ? at::mean(T0, AllDims(T0), true) : at::mean(T0));
  RET(at::mean(T0, Ints(info, 1), keepdim));
}
Napi::Value Amax(const Napi::CallbackInfo& info) { RET(at::amax(T0, Absent(info, 1) ? std::vector<int64_t>{} : Ints(info, 1), Bool(info, 2, false))); }
Napi::Value Amin(const Napi::CallbackInfo& info) { RET(at::amin(T0, Absent(info, 1) ? std::vector<int64_t>{} : Ints(info, 1), Bool(info, 2, false))); }
Napi::Value Max(const Napi::CallbackInfo& info) { return Pair(info.Env(), at::max(T0, Int(info, 1), Bool(info, 2, false))); }
Napi::Value Argmax(const Napi::CallbackInfo& info) { RET(at::argmax(T0, OptInt(info, 1), Bool(info, 2, false))); }
Napi::Value Norm(const Napi::CallbackInfo& info) {
  at::Scalar p = Absent(info, 1) ? at::Scalar(int64_t(2)) : Sc(info, 1);
  bool keepdim = Bool(info, 3, false);
  if (Absent(info, 2)) RET(keepdim ? at::norm(T0, p, AllDims(T0), true) : at::norm(T0, p));
  RET(at::norm(T0, p, Ints(info, 2), keepdim));
}
Napi::Value Topk(const Napi::CallbackInfo& info) {
  return Pair(info.Env(), at::topk(T0, Int(info, 1), Absent(info, 2) ? -1 : Int(info, 2), Bool(info, 3, true), Bool(info, 4, true)));
}
Napi::Value Softmax(const Napi::CallbackInfo& info) { RET(at::softmax(T0, Int(info, 1), c10::nullopt)); }
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) { RET(at::log_softmax(T0, Int(info, 1), c10::nullopt)); }

// ---------------------------------------------------------------------------------------------------------------
// In-place ops (return undefined; the JS wrapper returns `this`)

Napi::Value AddInplace(const Napi::CallbackInfo& info) { Mut(info).add_(Ten(info, 1), Alpha(info)); UNDEF; }
Napi::Value AddScalarInplace(const Napi::CallbackInfo& info) { Mut(info).add_(Sc(info, 1), Alpha(info)); UNDEF; }
Napi::Value SubInplace(const Napi::CallbackInfo& info) { Mut(info).sub_(Ten(info, 1), Alpha(info)); UNDEF; }
Napi::Value SubScalarInplace(const Napi::CallbackInfo& info) { Mut(info).sub_(Sc(info, 1), Alpha(info)); UNDEF; }
Napi::Value MulInplace(const Napi::CallbackInfo& info) { Mut(info).mul_(Ten(info, 1)); UNDEF; }
Napi::Value MulScalarInplace(const Napi::CallbackInfo& info) { Mut(info).mul_(Sc(info, 1)); UNDEF; }
Napi::Value DivInplace(const Napi::CallbackInfo& info) { Mut(info).div_(Ten(info, 1)); UNDEF; }
Napi::Value DivScalarInplace(const Napi::CallbackInfo& info) { Mut(info).div_(Sc(info, 1)); UNDEF; }
Napi::Value CopyInplace(const Napi::CallbackInfo& info) { Mut(info).copy_(Ten(info, 1)); UNDEF; }
Napi::Value ZeroInplace(const Napi::CallbackInfo& info) { Mut(info).zero_(); UNDEF; }
Napi::Value FillInplace(const Napi::CallbackInfo& info) { Mut(info).fill_(Sc(info, 1)); UNDEF; }
Napi::Value AddcmulInplace(const Napi::CallbackInfo& info) {
  Mut(info).addcmul_(Ten(info, 1), Ten(info, 2), Absent(info, 3) ? at::Scalar(int64_t(1)) : Sc(info, 3));
  UNDEF;
}
Napi::Value AddcdivInplace(const Napi::CallbackInfo& info) {
  Mut(info).addcdiv_(Ten(info, 1), Ten(info, 2), Absent(info, 3) ? at::Scalar(int64_t(1)) : Sc(info, 3));
  UNDEF;
}
Napi::Value SqrtInplace(const Napi::CallbackInfo& info) { Mut(info).sqrt_(); UNDEF; }
Napi::Value ClampInplace(const Napi::CallbackInfo& info) { Mut(info).clamp_(OptSc(info, 1), OptSc(info, 2)); UNDEF; }
Napi::Value LerpInplace(const Napi::CallbackInfo& info) { Mut(info).lerp_(Ten(info, 1), Sc(info, 2)); UNDEF; }
Napi::Value NormalInplace(const Napi::CallbackInfo& info) {
  Mut(info).normal_(Absent(info, 1) ? 0.0 : Num(info, 1), Absent(info, 2) ? 1.0 : Num(info, 2));
  UNDEF;
}
Napi::Value UniformInplace(const Napi::CallbackInfo& info) {
  Mut(info).uniform_(Absent(info, 1) ? 0.0 : Num(info, 1), Absent(info, 2) ? 1.0 : Num(info, 2));
  UNDEF;
}

// ---------------------------------------------------------------------------------------------------------------
// Creation: (shape, dtype, device) unless noted

Napi::Value Zeros(const Napi::CallbackInfo& info) { RET(at::zeros(Ints(info, 0), Opts(info, 1, 2))); }
Napi::Value Ones(const Napi::CallbackInfo& info) { RET(at::ones(Ints(info, 0), Opts(info, 1, 2))); }
Napi::Value Empty(const Napi::CallbackInfo& info) { RET(at::empty(Ints(info, 0), Opts(info, 1, 2))); }
Napi::Value Randn(const Napi::CallbackInfo& info) { RET(at::randn(Ints(info, 0), Opts(info, 1, 2))); }
Napi::Value Rand(const Napi::CallbackInfo& info) { RET(at::rand(Ints(info, 0), Opts(info, 1, 2))); }
Napi::Value Full(const Napi::CallbackInfo& info) { RET(at::full(Ints(info, 0), Sc(info, 1), Opts(info, 2, 3))); }
Napi::Value Randint(const Napi::CallbackInfo& info) { RET(at::randint(Int(info, 0), Int(info, 1), Ints(info, 2), Opts(info, 3, 4))); }
Napi::Value Arange(const Napi::CallbackInfo& info) { RET(at::arange(Sc(info, 0), Sc(info, 1), Sc(info, 2), Opts(info, 3, 4))); }
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  at::manual_seed(static_cast<uint64_t>(Int(info, 0)));
  UNDEF;
}
Napi::Value Cat(const Napi::CallbackInfo& info) { RET(at::cat(TensorList(info, 0), Absent(info, 1) ? 0 : Int(info, 1))); }
Napi::Value Stack(const Napi::CallbackInfo& info) { RET(at::stack(TensorList(info, 0), Absent(info, 1) ? 0 : Int(info, 1))); }

// ---------------------------------------------------------------------------------------------------------------
// torch.nn.functional

// The int8 engine for dynamic quantization: fbgemm where this libtorch has it (PyTorch's wheels), else oneDNN
// (Debian's build); qnnpack (ARM-first, ~6x slower than oneDNN on x86 here) is refused.
c10::optional<at::QEngine> FindInt8Engine() {
  const auto& have = at::globalContext().supportedQEngines();
  for (at::QEngine want : {at::kFBGEMM, at::kONEDNN}) {
    if (std::find(have.begin(), have.end(), want) != have.end()) return want;
  }
  return c10::nullopt;
}

at::QEngine Int8Engine() {
  auto e = FindInt8Engine();
  if (!e) throw ArgError("this libtorch has no x86 int8 engine (fbgemm or onednn)");
  return *e;
}

// int8Engine() -> 'fbgemm' | 'onednn' | '' (none: --dtype int8 cannot run).
Napi::Value Int8EngineName(const Napi::CallbackInfo& info) {
  auto e = FindInt8Engine();
  return Napi::String::New(info.Env(), !e ? "" : *e == at::kFBGEMM ? "fbgemm" : "onednn");
}

// linearInt8Pack(weight [out, in], bias?) -> handle of the quantized weight [out, in]: torch.ao's dynamic
// quantization of one nn.Linear (quantize_dynamic), written here because libtorch's C++ API has no wrapper.
// Weights: symmetric int8, one scale per output row (max |w| / 127). The packed form (bias inside) stays with
// the handle: F.linear with it as weight runs the engine's int8 GEMM, quantizing its float input per call.
// Inference only (no autograd through it).
Napi::Value LinearInt8Pack(const Napi::CallbackInfo& info) {
  at::Tensor w = T0.detach().to(at::kFloat).contiguous();
  if (w.dim() != 2) throw ArgError("linearInt8Pack: weight must be 2-D [out, in]");
  c10::optional<at::Tensor> bias;
  if (!Absent(info, 1)) bias = Ten(info, 1).detach().to(at::kFloat).contiguous();
  at::Tensor scales = w.abs().amax({1}).div(127.0).clamp_min(1e-12).to(at::kDouble);
  at::Tensor q = at::quantize_per_channel(w, scales, at::zeros({w.size(0)}, at::kLong), 0, at::kQInt8);
  at::QEngine engine = Int8Engine();
  at::QEngine previous = at::globalContext().qEngine();
  static const auto prepack = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
  std::vector<c10::IValue> stack{q, bias ? c10::IValue(*bias) : c10::IValue()};
  at::globalContext().setQEngine(engine);
  try {
    prepack.callBoxed(&stack);
  } catch (...) {
    at::globalContext().setQEngine(previous);
    throw;
  }
  at::globalContext().setQEngine(previous);
  PackedInt8 p{stack.at(0).toCustomClass<LinearPackedParamsBase>(), engine == at::kFBGEMM};
  // The slot holds the quantized weight itself (int8 codes + per-row scales; JS sees dtype int8), which the
  // packed form also keeps (oneDNN's unpack() returns it): one copy of the codes, not two.
  Napi::Value handle = Wrap(info.Env(), q);
  int32_t id = handle.As<Napi::Number>().Int32Value();
  if (table->packed.size() <= static_cast<size_t>(id)) table->packed.resize(static_cast<size_t>(id) + 1);
  table->packed[id] = std::move(p);
  return handle;
}

Napi::Value Linear(const Napi::CallbackInfo& info) {
  int32_t w = HandleAt(info, 1);
  if (static_cast<size_t>(w) < table->packed.size() && table->packed[w].params) {
    if (!Absent(info, 2)) throw ArgError("linear: an int8-packed weight carries its own bias");
    const PackedInt8& p = table->packed[w];
    at::Tensor x = T0.scalar_type() == at::kFloat ? T0.contiguous() : T0.to(at::kFloat).contiguous();
    RET(p.params->apply_dynamic(x, p.reduceRange));
  }
  RET(at::linear(T0, table->slots[w], OptTen(info, 2)));
}
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  RET(at::layer_norm(T0, Ints(info, 1), OptTen(info, 2), OptTen(info, 3), Absent(info, 4) ? 1e-5 : Num(info, 4)));
}
Napi::Value Embedding(const Napi::CallbackInfo& info) { RET(at::embedding(T0, Ten(info, 1))); }
Napi::Value Dropout(const Napi::CallbackInfo& info) { RET(at::dropout(T0, Num(info, 1), Bool(info, 2, false))); }
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  RET(at::cross_entropy_loss(T0, Ten(info, 1), c10::nullopt, ReductionCode(info, 2), -100, Absent(info, 3) ? 0.0 : Num(info, 3)));
}
Napi::Value MseLoss(const Napi::CallbackInfo& info) { RET(at::mse_loss(T0, Ten(info, 1), ReductionCode(info, 2))); }
Napi::Value Normalize(const Napi::CallbackInfo& info) {
  // torch.nn.functional.normalize: x / max(||x||_p, eps) along dim
  const at::Tensor& x = T0;
  at::Scalar p = Absent(info, 1) ? at::Scalar(2.0) : at::Scalar(Num(info, 1));
  int64_t dim = Absent(info, 2) ? 1 : Int(info, 2);
  double eps = Absent(info, 3) ? 1e-12 : Num(info, 3);
  at::Tensor denom = x.norm(p, {dim}, true).clamp_min(eps).expand_as(x);
  RET(at::div(x, denom));
}
#if TORCH_VERSION_MAJOR >= 2
Napi::Value ScaledDotProductAttention(const Napi::CallbackInfo& info) {
  RET(at::scaled_dot_product_attention(T0, Ten(info, 1), Ten(info, 2), OptTen(info, 3)));
}
#endif

// ---------------------------------------------------------------------------------------------------------------
// Modes, threads, devices

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(Bool(info, 0, true));
  return Napi::Boolean::New(info.Env(), previous);
}
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled()); }

bool IsCudaKind(const Napi::CallbackInfo& info, size_t i) {
  std::string kind = info[i].As<Napi::String>().Utf8Value();
  if (kind == "cuda") return true;
  if (kind == "cpu") return false;
  throw ArgError("autocast device type must be 'cpu' or 'cuda', got '" + kind + "'");
}

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool AutocastEnabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void SetAutocastEnabled(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
at::ScalarType AutocastDType(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void SetAutocastDType(bool cuda, at::ScalarType dt) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, dt); }
#else
bool AutocastEnabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void SetAutocastEnabled(bool cuda, bool on) { cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on); }
at::ScalarType AutocastDType(bool cuda) { return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype(); }
void SetAutocastDType(bool cuda, at::ScalarType dt) { cuda ? at::autocast::set_autocast_gpu_dtype(dt) : at::autocast::set_autocast_cpu_dtype(dt); }
#endif

// autocastEnter(deviceType, dtype) -> [prevEnabled, prevDtypeCode, prevCacheEnabled]; mirrors torch.autocast.__enter__.
Napi::Value AutocastEnter(const Napi::CallbackInfo& info) {
  bool cuda = IsCudaKind(info, 0);
  at::ScalarType dt = DT(info, 1);
  auto prev = Napi::Array::New(info.Env(), 3);
  prev.Set(0u, Napi::Boolean::New(info.Env(), AutocastEnabled(cuda)));
  prev.Set(1u, Napi::Number::New(info.Env(), DTypeCode(AutocastDType(cuda))));
  prev.Set(2u, Napi::Boolean::New(info.Env(), at::autocast::is_autocast_cache_enabled()));
  SetAutocastEnabled(cuda, true);
  SetAutocastDType(cuda, dt);
  at::autocast::increment_nesting();
  at::autocast::set_autocast_cache_enabled(true);
  return prev;
}

// autocastExit(deviceType, prevEnabled, prevDtypeCode, prevCacheEnabled); mirrors torch.autocast.__exit__.
Napi::Value AutocastExit(const Napi::CallbackInfo& info) {
  bool cuda = IsCudaKind(info, 0);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetAutocastEnabled(cuda, Bool(info, 1, false));
  SetAutocastDType(cuda, DT(info, 2));
  at::autocast::set_autocast_cache_enabled(Bool(info, 3, true));
  UNDEF;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int64_t n = Int(info, 0);
  if (n < 1) throw ArgError("thread count must be >= 1");
  at::set_num_threads(static_cast<int>(n));
  UNDEF;
}
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }
Napi::Value CudaAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), at::hasCUDA() && at::getNumGPUs() > 0); }
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::hasCUDA() ? static_cast<double>(at::getNumGPUs()) : 0.0);
}
Napi::Value LibtorchVersion(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), TORCH_VERSION); }

// mmapFile(path) -> ArrayBuffer over a private mapping of the file: pages load on demand and the file is never
// written (writes, if any, are copy-on-write). Unmapped when the ArrayBuffer is collected.
Napi::Value MmapFile(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw ArgError("path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ArgError(path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    throw ArgError(path + ": " + std::strerror(err));
  }
  size_t len = static_cast<size_t>(st.st_size);
  if (len == 0) {
    close(fd);
    return Napi::ArrayBuffer::New(info.Env(), 0);
  }
  void* addr = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int err = errno;
  close(fd);
  if (addr == MAP_FAILED) throw ArgError(path + ": mmap failed: " + std::strerror(err));
  return Napi::ArrayBuffer::New(info.Env(), addr, len, [len](Napi::Env, void* p) { munmap(p, len); });
}

// Raw bytes of an ArrayBuffer, TypedArray or DataView argument, honoring a view's byteOffset.
std::pair<const uint8_t*, size_t> BytesOf(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i < info.Length() && info[i].IsArrayBuffer()) {
    auto ab = info[i].As<Napi::ArrayBuffer>();
    return {static_cast<const uint8_t*>(ab.Data()), ab.ByteLength()};
  }
  if (i < info.Length() && info[i].IsTypedArray()) {
    auto ta = info[i].As<Napi::TypedArray>();
    return {static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ByteLength()};
  }
  if (i < info.Length() && info[i].IsDataView()) {
    auto dv = info[i].As<Napi::DataView>();
    return {static_cast<const uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset(), dv.ByteLength()};
  }
  throw ArgError(std::string(what) + " must be an ArrayBuffer or a typed array");
}

// scanTopK(data, dtype, queries, dim, count, k, threads, scales?) -> { ids: Int32Array, scores: Float32Array, isa }:
// for each query of `queries` (float32 [nq, dim]), the min(k, count) rows of `data` ([count, dim] of dtype
// 'float32' | 'bfloat16' | 'int8') with the largest inner products, best first, ties by row ascending. int8 rows
// decode as code * scales[j] when `scales` (float32 [dim]) is given; `isa` names the SIMD path used
// (DENSEKIT_SCAN_ISA=scalar|avx2 lowers it). threads < 1 means all cores. See scan-kernel.h.
Napi::Value ScanTopK(const Napi::CallbackInfo& info) {
  namespace ks = densekit_scan;
  if (info.Length() < 2 || !info[1].IsString()) throw ArgError("dtype must be 'float32', 'bfloat16' or 'int8'");
  std::string dtype = info[1].As<Napi::String>().Utf8Value();
  ks::RowType type;
  size_t elem;
  if (dtype == "float32") type = ks::RowType::F32, elem = 4;
  else if (dtype == "bfloat16") type = ks::RowType::BF16, elem = 2;
  else if (dtype == "int8") type = ks::RowType::I8, elem = 1;
  else throw ArgError("dtype must be 'float32', 'bfloat16' or 'int8', got '" + dtype + "'");
  auto [data, dataBytes] = BytesOf(info, 0, "data");
  if (info.Length() < 3 || !info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw ArgError("queries must be a Float32Array");
  }
  auto queries = info[2].As<Napi::Float32Array>();
  int64_t dim = Int(info, 3), count = Int(info, 4), k = Int(info, 5), threads = Int(info, 6);
  if (dim < 1) throw ArgError("dim must be >= 1");
  if (count < 0 || count > INT32_MAX) throw ArgError("count must be in [0, 2^31)");
  if (k < 0) throw ArgError("k must be >= 0");
  if (threads < 1) threads = std::max(1u, std::thread::hardware_concurrency());
  if (static_cast<int64_t>(queries.ElementLength()) % dim != 0) throw ArgError("queries length is not a multiple of dim");
  if (dataBytes / elem / static_cast<size_t>(dim) < static_cast<size_t>(count)) {
    throw ArgError("data holds " + std::to_string(dataBytes) + " bytes, fewer than count x dim " + dtype + " values");
  }
  if (dtype == "float32" && reinterpret_cast<uintptr_t>(data) % 4 != 0) throw ArgError("float32 data must be 4-byte aligned");
  if (dtype == "bfloat16" && reinterpret_cast<uintptr_t>(data) % 2 != 0) throw ArgError("bfloat16 data must be 2-byte aligned");
  const float* scales = nullptr;
  if (!Absent(info, 7)) {
    if (type != ks::RowType::I8) throw ArgError("scales apply to int8 data only");
    if (!info[7].IsTypedArray() || info[7].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        static_cast<int64_t>(info[7].As<Napi::Float32Array>().ElementLength()) != dim) {
      throw ArgError("scales must be a Float32Array of length dim");
    }
    scales = info[7].As<Napi::Float32Array>().Data();
  }
  ks::Isa isa = ks::ChosenIsa();
  int64_t nq = static_cast<int64_t>(queries.ElementLength()) / dim;
  int64_t kk = std::min(k, count);
  auto ids = Napi::Int32Array::New(info.Env(), static_cast<size_t>(nq * kk));
  auto scores = Napi::Float32Array::New(info.Env(), static_cast<size_t>(nq * kk));
  if (nq > 0 && kk > 0) {
    ks::ScanArgs a{data, type, dim, count, queries.Data(), scales, nq, static_cast<int>(kk), static_cast<int>(std::min<int64_t>(threads, 256))};
    ks::ScanTopK(a, isa, ids.Data(), scores.Data());
  }
  auto out = Napi::Object::New(info.Env());
  out.Set("isa", Napi::String::New(info.Env(), ks::IsaName(isa)));
  out.Set("ids", ids);
  out.Set("scores", scores);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Registration

const Op kOps[] = {
    {"dispose", Dispose}, {"liveCount", LiveCount}, {"shape", Shape}, {"dtype", DTypeOf}, {"device", DeviceOf},
    {"numel", Numel}, {"fromBytes", FromBytes, "fromHost"}, {"toBytes", ToBytes, "toHost"}, {"copyBytes_", CopyBytesInplace, "copyFromHost_"}, {"item", Item},
    {"toDType", ToDType, "to"}, {"toDevice", ToDevice, "to"}, {"setData_", SetDataInplace}, {"clone", Clone}, {"contiguous", Contiguous},
    // autograd
    {"requiresGrad", RequiresGrad}, {"setRequiresGrad", SetRequiresGrad}, {"grad", Grad}, {"backward", Backward},
    {"detach", Detach}, {"zeroGrad", ZeroGrad},
    // shape
    {"reshape", Reshape}, {"view", View}, {"transpose", Transpose}, {"permute", Permute}, {"unsqueeze", Unsqueeze},
    {"squeeze", Squeeze}, {"expand", Expand}, {"slice", Slice}, {"select", Select}, {"narrow", Narrow},
    {"indexSelect", IndexSelect}, {"gather", Gather}, {"flatten", Flatten}, {"repeat", Repeat},
    // elementwise
    {"add", Add}, {"addScalar", AddScalar, "add"}, {"sub", Sub}, {"subScalar", SubScalar, "sub"},
    {"mul", BinaryT<at::mul>}, {"mulScalar", BinaryS<at::mul>, "mul"}, {"div", BinaryT<at::div>},
    {"divScalar", BinaryS<at::div>, "div"}, {"pow", BinaryT<at::pow>}, {"powScalar", BinaryS<at::pow>, "pow"}, {"neg", Unary<at::neg>}, {"sqrt", Unary<at::sqrt>}, {"rsqrt", Unary<at::rsqrt>},
    {"exp", Unary<at::exp>}, {"log", Unary<at::log>}, {"abs", Unary<at::abs>}, {"square", Unary<at::square>},
    {"tanh", Unary<at::tanh>}, {"sigmoid", Unary<at::sigmoid>}, {"relu", Unary<at::relu>}, {"gelu", Gelu},
    {"erf", Unary<at::erf>}, {"sign", Unary<at::sign>}, {"reciprocal", Unary<at::reciprocal>}, {"floor", Unary<at::floor>},
    {"clamp", Clamp}, {"matmul", Matmul}, {"bmm", Bmm}, {"mm", Mm},
    {"eq", BinaryT<at::eq>}, {"eqScalar", BinaryS<at::eq>, "eq"}, {"ne", BinaryT<at::ne>}, {"neScalar", BinaryS<at::ne>, "ne"},
    {"gt", BinaryT<at::gt>}, {"gtScalar", BinaryS<at::gt>, "gt"}, {"ge", BinaryT<at::ge>}, {"geScalar", BinaryS<at::ge>, "ge"},
    {"lt", BinaryT<at::lt>}, {"ltScalar", BinaryS<at::lt>, "lt"}, {"le", BinaryT<at::le>}, {"leScalar", BinaryS<at::le>, "le"},
    {"logicalNot", Unary<at::logical_not>}, {"logicalAnd", LogicalAnd}, {"where", Where}, {"whereScalar", WhereScalar, "where"},
    {"maskedFill", MaskedFill},
    {"cumsum", Cumsum}, {"triu", Triu},
    // reductions
    {"sum", Sum}, {"mean", Mean}, {"amax", Amax}, {"amin", Amin}, {"max", Max}, {"argmax", Argmax}, {"norm", Norm},
    {"topk", Topk}, {"softmax", Softmax}, {"logSoftmax", LogSoftmax},
    // in-place
    {"add_", AddInplace}, {"addScalar_", AddScalarInplace, "add_"}, {"sub_", SubInplace}, {"subScalar_", SubScalarInplace, "sub_"},
    {"mul_", MulInplace}, {"mulScalar_", MulScalarInplace, "mul_"}, {"div_", DivInplace}, {"divScalar_", DivScalarInplace, "div_"},
    {"copy_", CopyInplace},
    {"zero_", ZeroInplace}, {"fill_", FillInplace}, {"addcmul_", AddcmulInplace}, {"addcdiv_", AddcdivInplace},
    {"sqrt_", SqrtInplace}, {"clamp_", ClampInplace}, {"lerp_", LerpInplace}, {"normal_", NormalInplace},
    {"uniform_", UniformInplace},
    // creation
    {"zeros", Zeros}, {"ones", Ones}, {"empty", Empty}, {"randn", Randn}, {"rand", Rand}, {"full", Full},
    {"randint", Randint}, {"arange", Arange}, {"manualSeed", ManualSeed}, {"cat", Cat}, {"stack", Stack},
    // functional
    {"linear", Linear}, {"linearInt8Pack", LinearInt8Pack}, {"layerNorm", LayerNorm}, {"embedding", Embedding}, {"dropout", Dropout},
    {"crossEntropy", CrossEntropy}, {"mseLoss", MseLoss}, {"normalize", Normalize},
#if TORCH_VERSION_MAJOR >= 2
    {"scaledDotProductAttention", ScaledDotProductAttention},
#endif
    // modes and system
    {"setGradEnabled", SetGradEnabled}, {"isGradEnabled", IsGradEnabled}, {"autocastEnter", AutocastEnter},
    {"autocastExit", AutocastExit}, {"setNumThreads", SetNumThreads}, {"getNumThreads", GetNumThreads},
    {"cudaAvailable", CudaAvailable}, {"cudaDeviceCount", CudaDeviceCount}, {"libtorchVersion", LibtorchVersion},
    {"mmapFile", MmapFile}, {"scanTopK", ScanTopK}, {"int8Engine", Int8EngineName},
};

void ReleaseTable(void* arg) {
  auto* t = static_cast<Table*>(arg);
  if (table == t) table = nullptr;
  delete t;
}

// Activations of an encoder batch are tens of MB each (32 x 128 x 3072 float32 = 50 MB). Above glibc's mmap
// threshold (dynamic, at most 32 MB) every such tensor is a fresh mmap, so each op faults in and zeroes its
// output page by page, and munmap returns it at dispose: ~400k minor page faults per 64 DistilBERT passages,
// ~25% of the forward time at 1 thread (docs/cpu-speed.md). With the threshold at 512 MiB they come from the
// heap and reuse freed memory; the trim threshold keeps up to 1 GiB free at the heap's top instead of returning
// it after every batch. Once per process, before libtorch allocates; the same numbers as the environment
// variable GLIBC_TUNABLES=glibc.malloc.mmap_threshold=536870912:glibc.malloc.trim_threshold=1073741824, which
// this leaves alone when it is set.
void TuneMalloc() {
  static bool done = false;
  if (done) return;
  done = true;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return;
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  TuneMalloc();
  // The same addon loaded twice in one environment (e.g. via two paths) shares the thread's table.
  if (table == nullptr) {
    table = new Table();
    napi_add_env_cleanup_hook(env, ReleaseTable, table);
  }
  for (const Op& op : kOps) {
    exports.Set(op.name, Napi::Function::New(env, Trampoline, op.name, const_cast<Op*>(&op)));
  }
  return exports;
}

}  // namespace

NODE_API_MODULE(densekit, Init)
