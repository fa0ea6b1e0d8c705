// Exact top-k inner-product scan over a row-major matrix (float32, bfloat16 or int8 codes), for the flat index
// (src/retrieval/). libtorch-free on purpose: one memory pass, no copies, and the rows of a memory-mapped file are
// read in place.
//
// Why not usearch's exactSearch: it gives each query one thread, so a single query reads the matrix on one core
// and reaches about 60% of the machine's read bandwidth. Here ROWS are split across threads: each thread scans a
// contiguous range of rows for every query, keeps a top-k heap per query, and the heaps are merged at the end.
// For a batch, rows go in blocks small enough to stay in L2 while every query visits them (each block is read
// from memory once for the whole batch).
//
// Scores and ties: a row's score never depends on the thread split (each dot product is computed by the same
// code over the same elements), and the order is total (score descending, then row ascending), so results are
// identical for any thread count. float32 rows are accumulated in double (each float32 x float32 product is exact
// in double), so the returned float32 score is the correctly rounded exact dot product except when the double
// sum lies within ~2^-50 relative of a float32 rounding boundary. bfloat16 and int8 rows are scanned to propose
// candidates that the caller rescores; they accumulate in float32 (half the instructions per byte).
//
// SIMD: AVX-512F or AVX2+FMA code paths are compiled with per-function target attributes and picked at run time
// (__builtin_cpu_supports), so the addon still runs on CPUs without them; the scalar path is the fallback.

#pragma once

#include <immintrin.h>

#include <algorithm>
#include <functional>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_* "is used uninitialized"): a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace densekit_scan {

enum class RowType { F32, BF16, I8 };

// ---------------------------------------------------------------------------------------------------------------
// Dot products. Query layout per row type: F32 -> double[dim]; BF16 and I8 -> float[dim] (for I8 the caller has
// folded the per-dimension scales into the query, so code . q' equals decoded row . q up to float rounding).

inline float Bf16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline double DotF32Scalar(const double* q, const float* x, int64_t dim) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t j = 0;
  for (; j + 4 <= dim; j += 4) {
    s0 += q[j] * x[j];
    s1 += q[j + 1] * x[j + 1];
    s2 += q[j + 2] * x[j + 2];
    s3 += q[j + 3] * x[j + 3];
  }
  for (; j < dim; j++) s0 += q[j] * x[j];
  return (s0 + s1) + (s2 + s3);
}

inline float DotBf16Scalar(const float* q, const uint16_t* x, int64_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t j = 0;
  for (; j + 4 <= dim; j += 4) {
    s0 += q[j] * Bf16ToF32(x[j]);
    s1 += q[j + 1] * Bf16ToF32(x[j + 1]);
    s2 += q[j + 2] * Bf16ToF32(x[j + 2]);
    s3 += q[j + 3] * Bf16ToF32(x[j + 3]);
  }
  for (; j < dim; j++) s0 += q[j] * Bf16ToF32(x[j]);
  return (s0 + s1) + (s2 + s3);
}

inline float DotI8Scalar(const float* q, const int8_t* x, int64_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t j = 0;
  for (; j + 4 <= dim; j += 4) {
    s0 += q[j] * x[j];
    s1 += q[j + 1] * x[j + 1];
    s2 += q[j + 2] * x[j + 2];
    s3 += q[j + 3] * x[j + 3];
  }
  for (; j < dim; j++) s0 += q[j] * x[j];
  return (s0 + s1) + (s2 + s3);
}

// A vector's width of bfloat16 / int8 values widened to float32 lanes (bf16 is the top half of a float32's bits).
__attribute__((target("avx512f"))) inline __m512 WidenBf16x16(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

__attribute__((target("avx512f"))) inline __m512 WidenI8x16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

__attribute__((target("avx2,fma"))) inline __m256 WidenBf16x8(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

__attribute__((target("avx2,fma"))) inline __m256 WidenI8x8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

__attribute__((target("avx512f"))) inline double DotF32Avx512(const double* q, const float* x, int64_t dim) {
  __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd(), a2 = _mm512_setzero_pd(), a3 = _mm512_setzero_pd();
  int64_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    a0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + j)), _mm512_loadu_pd(q + j), a0);
    a1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + j + 8)), _mm512_loadu_pd(q + j + 8), a1);
    a2 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + j + 16)), _mm512_loadu_pd(q + j + 16), a2);
    a3 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + j + 24)), _mm512_loadu_pd(q + j + 24), a3);
  }
  for (; j + 8 <= dim; j += 8) a0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + j)), _mm512_loadu_pd(q + j), a0);
  double s = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
  for (; j < dim; j++) s += q[j] * x[j];
  return s;
}

__attribute__((target("avx512f"))) inline float DotBf16Avx512(const float* q, const uint16_t* x, int64_t dim) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    a0 = _mm512_fmadd_ps(WidenBf16x16(x + j), _mm512_loadu_ps(q + j), a0);
    a1 = _mm512_fmadd_ps(WidenBf16x16(x + j + 16), _mm512_loadu_ps(q + j + 16), a1);
  }
  for (; j + 16 <= dim; j += 16) a0 = _mm512_fmadd_ps(WidenBf16x16(x + j), _mm512_loadu_ps(q + j), a0);
  float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  for (; j < dim; j++) s += q[j] * Bf16ToF32(x[j]);
  return s;
}

__attribute__((target("avx512f"))) inline float DotI8Avx512(const float* q, const int8_t* x, int64_t dim) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    a0 = _mm512_fmadd_ps(WidenI8x16(x + j), _mm512_loadu_ps(q + j), a0);
    a1 = _mm512_fmadd_ps(WidenI8x16(x + j + 16), _mm512_loadu_ps(q + j + 16), a1);
  }
  for (; j + 16 <= dim; j += 16) a0 = _mm512_fmadd_ps(WidenI8x16(x + j), _mm512_loadu_ps(q + j), a0);
  float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  for (; j < dim; j++) s += q[j] * x[j];
  return s;
}

__attribute__((target("avx2,fma"))) inline double HsumPd256(__m256d v) {
  __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
  lo = _mm_add_pd(lo, hi);
  return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

__attribute__((target("avx2,fma"))) inline float HsumPs256(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  return _mm_cvtss_f32(_mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1)));
}

__attribute__((target("avx2,fma"))) inline double DotF32Avx2(const double* q, const float* x, int64_t dim) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    a0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j)), _mm256_loadu_pd(q + j), a0);
    a1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j + 4)), _mm256_loadu_pd(q + j + 4), a1);
    a2 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j + 8)), _mm256_loadu_pd(q + j + 8), a2);
    a3 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j + 12)), _mm256_loadu_pd(q + j + 12), a3);
  }
  for (; j + 4 <= dim; j += 4) a0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j)), _mm256_loadu_pd(q + j), a0);
  double s = HsumPd256(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; j < dim; j++) s += q[j] * x[j];
  return s;
}

__attribute__((target("avx2,fma"))) inline float DotBf16Avx2(const float* q, const uint16_t* x, int64_t dim) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    a0 = _mm256_fmadd_ps(WidenBf16x8(x + j), _mm256_loadu_ps(q + j), a0);
    a1 = _mm256_fmadd_ps(WidenBf16x8(x + j + 8), _mm256_loadu_ps(q + j + 8), a1);
  }
  for (; j + 8 <= dim; j += 8) a0 = _mm256_fmadd_ps(WidenBf16x8(x + j), _mm256_loadu_ps(q + j), a0);
  float s = HsumPs256(_mm256_add_ps(a0, a1));
  for (; j < dim; j++) s += q[j] * Bf16ToF32(x[j]);
  return s;
}

__attribute__((target("avx2,fma"))) inline float DotI8Avx2(const float* q, const int8_t* x, int64_t dim) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    a0 = _mm256_fmadd_ps(WidenI8x8(x + j), _mm256_loadu_ps(q + j), a0);
    a1 = _mm256_fmadd_ps(WidenI8x8(x + j + 8), _mm256_loadu_ps(q + j + 8), a1);
  }
  for (; j + 8 <= dim; j += 8) a0 = _mm256_fmadd_ps(WidenI8x8(x + j), _mm256_loadu_ps(q + j), a0);
  float s = HsumPs256(_mm256_add_ps(a0, a1));
  for (; j < dim; j++) s += q[j] * x[j];
  return s;
}

enum class Isa { Scalar, Avx2, Avx512 };

inline Isa DetectIsa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::Scalar;
}

inline const char* IsaName(Isa isa) { return isa == Isa::Avx512 ? "avx512f" : isa == Isa::Avx2 ? "avx2" : "scalar"; }

// The best path this CPU supports, lowered by DENSEKIT_SCAN_ISA=scalar|avx2 (read per call, so tests can compare
// the paths in one process; a path the CPU lacks is never chosen).
inline Isa ChosenIsa() {
  static const Isa detected = DetectIsa();
  const char* want = std::getenv("DENSEKIT_SCAN_ISA");
  if (!want || !*want) return detected;
  Isa w = std::strcmp(want, "scalar") == 0 ? Isa::Scalar : std::strcmp(want, "avx2") == 0 ? Isa::Avx2 : Isa::Avx512;
  return static_cast<int>(w) < static_cast<int>(detected) ? w : detected;
}

// ---------------------------------------------------------------------------------------------------------------
// Top-k

struct Cand {
  float score;
  int32_t row;
};

// Total order: higher score first, then lower row (NaN scores are mapped to -inf before they get here).
inline bool Better(const Cand& a, const Cand& b) { return a.score > b.score || (a.score == b.score && a.row < b.row); }

// A bounded heap whose top is the worst kept candidate.
class TopK {
 public:
  explicit TopK(int k) : k_(k) { heap_.reserve(k); }
  void Push(float score, int32_t row) {
    if (static_cast<int>(heap_.size()) < k_) {
      heap_.push_back({score, row});
      std::push_heap(heap_.begin(), heap_.end(), Better);
      if (static_cast<int>(heap_.size()) == k_) threshold_ = heap_.front().score;
      return;
    }
    // Rows arrive in ascending order within a thread, so an equal score never beats a kept candidate; the full
    // comparison keeps this correct for any order.
    if (score < threshold_) return;
    Cand c{score, row};
    if (!Better(c, heap_.front())) return;
    std::pop_heap(heap_.begin(), heap_.end(), Better);
    heap_.back() = c;
    std::push_heap(heap_.begin(), heap_.end(), Better);
    threshold_ = heap_.front().score;
  }
  const std::vector<Cand>& items() const { return heap_; }

 private:
  int k_;
  float threshold_ = -std::numeric_limits<float>::infinity();
  std::vector<Cand> heap_;
};

struct ScanArgs {
  const void* data;  // count * dim elements of `type`
  RowType type;
  int64_t dim;
  int64_t count;
  const float* queries;  // nq * dim
  const float* scales;   // I8 only: per-dimension scales (decoded value = code * scale); may be null (scale 1)
  int64_t nq;
  int k;  // per query; the caller has clamped it to count
  int threads;
};

// Scores rows [begin, end) for every query into `heaps` (one per query), one pair at a time: the path for a
// single query (memory-bound: a row is read once and scored once) and for CPUs without AVX-512.
inline void ScanRange(const ScanArgs& a, Isa isa, const std::vector<double>& qd, const std::vector<float>& qf, int64_t qBegin, int64_t qEnd,
                      int64_t begin, int64_t end, std::vector<TopK>& heaps) {
  const int64_t dim = a.dim;
  int64_t rowBytes = dim * (a.type == RowType::F32 ? 4 : a.type == RowType::BF16 ? 2 : 1);
  // Rows per block: ~128 KiB, so a block stays in L2 while each query of a batch visits it.
  int64_t block = qEnd - qBegin == 1 ? (end - begin) : std::max<int64_t>(1, (128 * 1024) / std::max<int64_t>(1, rowBytes));
  for (int64_t b0 = begin; b0 < end; b0 += block) {
    int64_t b1 = std::min(end, b0 + block);
    for (int64_t qi = qBegin; qi < qEnd; qi++) {
      TopK& heap = heaps[qi];
      for (int64_t r = b0; r < b1; r++) {
        float s;
        if (a.type == RowType::F32) {
          const double* q = qd.data() + qi * dim;
          const float* x = static_cast<const float*>(a.data) + r * dim;
          double d = isa == Isa::Avx512 ? DotF32Avx512(q, x, dim) : isa == Isa::Avx2 ? DotF32Avx2(q, x, dim) : DotF32Scalar(q, x, dim);
          s = static_cast<float>(d);
        } else if (a.type == RowType::BF16) {
          const float* q = qf.data() + qi * dim;
          const uint16_t* x = static_cast<const uint16_t*>(a.data) + r * dim;
          s = isa == Isa::Avx512 ? DotBf16Avx512(q, x, dim) : isa == Isa::Avx2 ? DotBf16Avx2(q, x, dim) : DotBf16Scalar(q, x, dim);
        } else {
          const float* q = qf.data() + qi * dim;
          const int8_t* x = static_cast<const int8_t*>(a.data) + r * dim;
          s = isa == Isa::Avx512 ? DotI8Avx512(q, x, dim) : isa == Isa::Avx2 ? DotI8Avx2(q, x, dim) : DotI8Scalar(q, x, dim);
        }
        if (std::isnan(s)) s = -std::numeric_limits<float>::infinity();
        heap.Push(s, static_cast<int32_t>(r));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Query batches on AVX-512: one pass over the rows for the whole batch.
//
// Rows go in L2-sized blocks; within a block, tiles of 4 queries x 4 rows are scored together, so each row
// vector loaded (and widened, for bf16 / int8) feeds 4 queries and each query vector feeds 4 rows: the batch
// costs about one memory pass plus its multiply-adds (float32, 16 lanes), instead of one pass per query.
//
// The tile's float32 sums have their own summation order, so they are not the scores the single-query path
// returns (its score S: float32 of a double sum for float32 rows; a float32 sum in DotBf16Avx512's /
// DotI8Avx512's order for bf16 / int8). They come with a rigorous bound instead: |s_tile - S| <= eps =
// c * |q| * |x|, where c covers the rounding of both summations (gamma_n * sum|q_j x_j| each, and
// sum|q_j x_j| <= |q| |x|) with a 2x margin, and |x| comes from the same pass. Per query, T = the k-th largest
// lower bound s_tile - eps seen so far: k rows have S >= T, so a row whose upper bound is below T (tested as
// float32(upper) < float32(T), which implies it) scores strictly below the k-th and can never enter the top k,
// ties included. Every other row is a candidate, rescored with the single-query path's own function, so a
// batch returns exactly the rows and scores of one query at a time. Candidates are few: rows within ~2 eps
// (~1e-5 on unit vectors) of the k-th score.

__attribute__((target("avx512f"))) inline __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
__attribute__((target("avx512f"))) inline __m512 Load16(const uint16_t* p) { return WidenBf16x16(p); }
__attribute__((target("avx512f"))) inline __m512 Load16(const int8_t* p) { return WidenI8x16(p); }
inline float Decode(float v) { return v; }
inline float Decode(uint16_t v) { return Bf16ToF32(v); }
inline float Decode(int8_t v) { return v; }

// The last n < 16 values of a row, decoded and zero-padded (no read past the row).
template <typename T>
__attribute__((target("avx512f"))) inline __m512 LoadTail(const T* p, int64_t n) {
  alignas(64) float buf[16] = {};
  for (int64_t i = 0; i < n; i++) buf[i] = Decode(p[i]);
  return _mm512_load_ps(buf);
}

// 16 vectors -> one vector of their 16 horizontal sums; lane 4*r + i holds the sum of v[4*i + r].
__attribute__((target("avx512f"))) inline __m512 Transpose16Sums(const __m512* v) {
  __m512 t[8], u[4], w[2];
#pragma GCC unroll 16
  for (int i = 0; i < 8; i++) {
    t[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44), _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; i++) {
    u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(t[2 * i], t[2 * i + 1], 0x88), _mm512_shuffle_f32x4(t[2 * i], t[2 * i + 1], 0xDD));
  }
#pragma GCC unroll 16
  for (int i = 0; i < 2; i++) {
    w[i] = _mm512_add_ps(_mm512_shuffle_ps(u[2 * i], u[2 * i + 1], 0x88), _mm512_shuffle_ps(u[2 * i], u[2 * i + 1], 0xDD));
  }
  return _mm512_add_ps(_mm512_shuffle_ps(w[0], w[1], 0x88), _mm512_shuffle_ps(w[0], w[1], 0xDD));
}

template <int Q, bool Norms>
__attribute__((target("avx512f"), always_inline)) inline void TileStep(const __m512* xr, const __m512* qv, __m512* acc, __m512* nacc) {
#pragma GCC unroll 16
  for (int r = 0; r < 4; r++)
    if constexpr (Norms) nacc[r] = _mm512_fmadd_ps(xr[r], xr[r], nacc[r]);
#pragma GCC unroll 16
  for (int i = 0; i < Q; i++)
#pragma GCC unroll 16
    for (int r = 0; r < 4; r++) acc[4 * i + r] = _mm512_fmadd_ps(qv[i], xr[r], acc[4 * i + r]);
}

// float32 dot products of Q queries x 4 rows, out[4 * r + i] (query i, row r). With Norms, also the 4 rows'
// float32 sums of squares into norms2[4] (the first query group of a block computes them while the rows stream
// in from memory).
template <int Q, bool Norms, typename T>
__attribute__((target("avx512f"))) inline void Tile(const float* const* q, const T* const* x, int64_t dim, float* out, float* norms2) {
  __m512 acc[16], nacc[4];
#pragma GCC unroll 16
  for (int p = 0; p < 16; p++) acc[p] = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int r = 0; r < 4; r++) nacc[r] = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    __m512 xr[4], qv[Q];
#pragma GCC unroll 16
    for (int r = 0; r < 4; r++) {
      // The next tile's rows (contiguous after these): the hardware prefetcher loses row-sized streams.
      _mm_prefetch(reinterpret_cast<const char*>(x[r] + 4 * dim + j), _MM_HINT_T0);
      xr[r] = Load16(x[r] + j);
    }
#pragma GCC unroll 16
    for (int i = 0; i < Q; i++) qv[i] = _mm512_loadu_ps(q[i] + j);
    TileStep<Q, Norms>(xr, qv, acc, nacc);
  }
  if (j < dim) {
    __mmask16 m = static_cast<__mmask16>((1u << (dim - j)) - 1);
    __m512 xr[4], qv[Q];
#pragma GCC unroll 16
    for (int r = 0; r < 4; r++) xr[r] = LoadTail(x[r] + j, dim - j);
#pragma GCC unroll 16
    for (int i = 0; i < Q; i++) qv[i] = _mm512_maskz_loadu_ps(m, q[i] + j);
    TileStep<Q, Norms>(xr, qv, acc, nacc);
  }
  if constexpr (Norms) {
    for (int r = 0; r < 4; r++) norms2[r] = _mm512_reduce_add_ps(nacc[r]);
  }
  if constexpr (Q == 4) {
    _mm512_storeu_ps(out, Transpose16Sums(acc));
  } else {
    for (int i = 0; i < Q; i++)
      for (int r = 0; r < 4; r++) out[4 * r + i] = _mm512_reduce_add_ps(acc[4 * i + r]);
  }
}

// float32 dot product of one pair with the same bound (rows at the end of a block).
template <typename T>
__attribute__((target("avx512f"))) inline float DotFast(const float* q, const T* x, int64_t dim) {
  __m512 acc = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + j), Load16(x + j), acc);
  if (j < dim) {
    __mmask16 m = static_cast<__mmask16>((1u << (dim - j)) - 1);
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + j), LoadTail(x + j, dim - j), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

template <typename T>
__attribute__((target("avx512f"))) inline float NormSquared(const T* x, int64_t dim) {
  __m512 acc = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    __m512 v = Load16(x + j);
    acc = _mm512_fmadd_ps(v, v, acc);
  }
  if (j < dim) {
    __m512 v = LoadTail(x + j, dim - j);
    acc = _mm512_fmadd_ps(v, v, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

// An upper bound on |x| from a float32 sum of squares, rounded up (tiny rows: |x_j| < 2^-50 whenever the sum is
// below 2^-100, where no square underflows unnoticed).
inline float NormBound(float n2) { return static_cast<float>(std::sqrt(std::max(static_cast<double>(n2), 0x1p-100)) * (1 + 0x1p-10)); }

// Per query: which rows may still belong to the exact top k (see above).
class BoundedTopK {
 public:
  explicit BoundedTopK(int k) : k_(k) {}
  float gate() const { return gate_; }
  // A row whose upper bound `upper` (float32, rounded) is >= gate(); `lower` its lower bound.
  void Offer(int32_t row, float upper, double lower) {
    if (static_cast<int>(lows_.size()) < k_) {
      lows_.push_back(lower);
      std::push_heap(lows_.begin(), lows_.end(), std::greater<double>());
      if (static_cast<int>(lows_.size()) == k_) gate_ = static_cast<float>(lows_.front());
    } else if (lower > lows_.front()) {
      std::pop_heap(lows_.begin(), lows_.end(), std::greater<double>());
      lows_.back() = lower;
      std::push_heap(lows_.begin(), lows_.end(), std::greater<double>());
      gate_ = static_cast<float>(lows_.front());
    }
    rows_.push_back(row);
    uppers_.push_back(upper);
  }
  // Drops candidates that the gate has since overtaken; true when the rest should be rescored now (keeps the
  // buffer bounded even when bounds are useless, e.g. rows of NaN or a zero query).
  bool Prune() {
    if (rows_.size() < 2 * static_cast<size_t>(k_) + 1024) return false;
    size_t w = 0;
    for (size_t i = 0; i < rows_.size(); i++)
      if (uppers_[i] >= gate_) rows_[w] = rows_[i], uppers_[w++] = uppers_[i];
    rows_.resize(w);
    uppers_.resize(w);
    return rows_.size() >= 2 * static_cast<size_t>(k_) + 512;
  }
  // Candidates still at or above the gate (ascending rows), and clears the buffer.
  template <typename F>
  void Drain(F&& fn) {
    for (size_t i = 0; i < rows_.size(); i++)
      if (uppers_[i] >= gate_) fn(rows_[i]);
    rows_.clear();
    uppers_.clear();
  }

 private:
  int k_;
  float gate_ = -std::numeric_limits<float>::infinity();
  std::vector<double> lows_;  // min-heap of the k largest lower bounds
  std::vector<int32_t> rows_;
  std::vector<float> uppers_;
};

// The tile scores of one batch, offered to each query's BoundedTopK when they may matter; pairs whose bound is
// not finite (overflow, NaN) are scored exactly at once.
struct Batch {
  const ScanArgs& a;
  const std::vector<double>& qd;  // float32 rows: the queries in double (the single-query path's input)
  const std::vector<float>& qf;   // the queries as the tiles and the bf16 / int8 path see them
  std::vector<float> qc;          // per query: the bound's constant times |q| (rounded up), at least 2^-70
  std::vector<float> gates;       // bounded[qi].gate(), contiguous for the vector test in Group
  std::vector<BoundedTopK> bounded;
  std::vector<TopK>& heaps;

  Batch(const ScanArgs& args, const std::vector<double>& qdouble, const std::vector<float>& qfloat, int64_t qBegin, int64_t qEnd, std::vector<TopK>& h)
      : a(args), qd(qdouble), qf(qfloat), qc(qEnd + 3, 0), gates(qEnd + 3, -std::numeric_limits<float>::infinity()), bounded(qEnd, BoundedTopK(args.k)), heaps(h) {
    const double u = 0x1p-24, lanes16 = static_cast<double>((a.dim + 15) / 16);
    // Tile: ceil(dim/16) multiply-adds per lane + 4 reduction levels. Single-query path: a double sum for float32
    // rows (2^-29 times smaller, inside the margin); DotBf16Avx512 / DotI8Avx512: ceil(dim/32) per lane, a
    // 16-wide step, 5 reduction levels and up to 15 scalar terms.
    double c = lanes16 + 5;
    if (a.type != RowType::F32) c += static_cast<double>((a.dim + 31) / 32) + 22;
    c *= 2 * u * (1 + 0x1p-10);
    for (int64_t qi = qBegin; qi < qEnd; qi++) {
      double n2 = 0;
      for (int64_t j = 0; j < a.dim; j++) n2 += static_cast<double>(qf[qi * a.dim + j]) * qf[qi * a.dim + j];
      qc[qi] = static_cast<float>(std::max(c * std::sqrt(n2), 0x1p-70) * (1 + 0x1p-10));
    }
  }

  // The single-query path's score of (qi, r).
  __attribute__((target("avx512f"))) float Exact(int64_t qi, int64_t r) const {
    const int64_t dim = a.dim;
    float s;
    if (a.type == RowType::F32) {
      s = static_cast<float>(DotF32Avx512(qd.data() + qi * dim, static_cast<const float*>(a.data) + r * dim, dim));
    } else if (a.type == RowType::BF16) {
      s = DotBf16Avx512(qf.data() + qi * dim, static_cast<const uint16_t*>(a.data) + r * dim, dim);
    } else {
      s = DotI8Avx512(qf.data() + qi * dim, static_cast<const int8_t*>(a.data) + r * dim, dim);
    }
    return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s;
  }
  // xnorm: an upper bound on |x| (float, rounded up). eps = qc * xnorm >= the rounding bound, and >= 2^-120
  // (xnorm >= 2^-50), which covers underflow in the products.
  __attribute__((target("avx512f"))) void Consider(int64_t qi, int64_t r, float st, float xnorm) {
    double eps = static_cast<double>(qc[qi]) * xnorm;
    float upper = static_cast<float>(static_cast<double>(st) + eps);
    if (upper < gates[qi] && std::isfinite(st)) return;  // NaN and overflow fall through to the exact score
    BoundedTopK& b = bounded[qi];
    if (!std::isfinite(st) || !std::isfinite(eps)) {
      float s = Exact(qi, r);
      b.Offer(static_cast<int32_t>(r), s, s);
    } else {
      b.Offer(static_cast<int32_t>(r), upper, static_cast<double>(st) - eps);
    }
    gates[qi] = b.gate();
    if (b.Prune()) Flush(qi);
  }
  void Flush(int64_t qi) {
    bounded[qi].Drain([&](int32_t r) { heaps[qi].Push(Exact(qi, r), r); });
  }
};

// Rows [b0, b1) of one block against the Q queries starting at q0; the first group of a block (norms = true)
// also fills xnorm for the block's rows.
template <int Q, typename T>
__attribute__((target("avx512f"))) inline void Group(Batch& batch, const T* rows, int64_t q0, int64_t b0, int64_t b1, std::vector<float>& xnorm, bool norms) {
  const int64_t dim = batch.a.dim;
  const float* qs[4];
  for (int i = 0; i < Q; i++) qs[i] = batch.qf.data() + (q0 + i) * dim;
  int64_t r = b0;
  for (; r + 4 <= b1; r += 4) {
    const T* xs[4] = {rows + r * dim, rows + (r + 1) * dim, rows + (r + 2) * dim, rows + (r + 3) * dim};
    float s[16];
    if (norms) {
      float n2[4];
      Tile<Q, true>(qs, xs, dim, s, n2);
      for (int t = 0; t < 4; t++) xnorm[r + t - b0] = NormBound(n2[t]);
    } else {
      Tile<Q, false>(qs, xs, dim, s, nullptr);
    }
    if constexpr (Q == 4) {
      // Most pairs fall below their query's gate: test all 16 at once (Consider's test in vector form, the upper
      // bound rounded once by the fused multiply-add; lane 4 * t + i is query i, row t).
      const __m512i rowOfLane = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
      __m512 sv = _mm512_loadu_ps(s);
      __m512 xn = _mm512_permutexvar_ps(rowOfLane, _mm512_castps128_ps512(_mm_loadu_ps(xnorm.data() + (r - b0))));
      __m512 upper = _mm512_fmadd_ps(_mm512_broadcast_f32x4(_mm_loadu_ps(batch.qc.data() + q0)), xn, sv);
      __mmask16 finite = _mm512_cmp_ps_mask(_mm512_sub_ps(sv, sv), _mm512_setzero_ps(), _CMP_EQ_OQ);
      __mmask16 pass = _mm512_cmp_ps_mask(upper, _mm512_broadcast_f32x4(_mm_loadu_ps(batch.gates.data() + q0)), _CMP_GE_OQ);
      for (unsigned m = static_cast<unsigned>(pass | static_cast<__mmask16>(~finite)); m; m &= m - 1) {
        int lane = __builtin_ctz(m);
        batch.Consider(q0 + (lane & 3), r + (lane >> 2), s[lane], xnorm[r + (lane >> 2) - b0]);
      }
    } else {
      for (int t = 0; t < 4; t++)
        for (int i = 0; i < Q; i++) batch.Consider(q0 + i, r + t, s[4 * t + i], xnorm[r + t - b0]);
    }
  }
  for (; r < b1; r++) {
    if (norms) xnorm[r - b0] = NormBound(NormSquared(rows + r * dim, dim));
    for (int i = 0; i < Q; i++) batch.Consider(q0 + i, r, DotFast(qs[i], rows + r * dim, dim), xnorm[r - b0]);
  }
}

template <typename T>
__attribute__((target("avx512f"))) inline void ScanRangeBatch(Batch& batch, const T* rows, int64_t qBegin, int64_t qEnd, int64_t begin, int64_t end) {
  // ~192 KiB of rows per block (a fifth of L2), a multiple of 4 rows.
  const int64_t block = std::max<int64_t>(4, ((192 * 1024) / std::max<int64_t>(1, batch.a.dim * static_cast<int64_t>(sizeof(T)))) / 4 * 4);
  std::vector<float> xnorm(block);
  for (int64_t b0 = begin; b0 < end; b0 += block) {
    const int64_t b1 = std::min(end, b0 + block);
    for (int64_t q0 = qBegin; q0 < qEnd; q0 += 4) {
      switch (std::min<int64_t>(4, qEnd - q0)) {
        case 4: Group<4>(batch, rows, q0, b0, b1, xnorm, q0 == qBegin); break;
        case 3: Group<3>(batch, rows, q0, b0, b1, xnorm, q0 == qBegin); break;
        case 2: Group<2>(batch, rows, q0, b0, b1, xnorm, q0 == qBegin); break;
        default: Group<1>(batch, rows, q0, b0, b1, xnorm, q0 == qBegin); break;
      }
    }
  }
  for (int64_t qi = qBegin; qi < qEnd; qi++) batch.Flush(qi);
}

inline void ScanRangeBatchAvx512(const ScanArgs& a, const std::vector<double>& qd, const std::vector<float>& qf, int64_t qBegin, int64_t qEnd, int64_t begin,
                                 int64_t end, std::vector<TopK>& heaps) {
  Batch batch(a, qd, qf, qBegin, qEnd, heaps);
  if (a.type == RowType::F32) ScanRangeBatch(batch, static_cast<const float*>(a.data), qBegin, qEnd, begin, end);
  else if (a.type == RowType::BF16) ScanRangeBatch(batch, static_cast<const uint16_t*>(a.data), qBegin, qEnd, begin, end);
  else ScanRangeBatch(batch, static_cast<const int8_t*>(a.data), qBegin, qEnd, begin, end);
}

// Fills outRows / outScores ([nq, k], best first) using the given code path.
inline void ScanTopK(const ScanArgs& a, Isa isa, int32_t* outRows, float* outScores) {
  const int64_t dim = a.dim;
  std::vector<double> qd;
  std::vector<float> qf;
  // The batch path scores float32 rows from float queries first, so it keeps both copies.
  const bool batch = isa == Isa::Avx512 && a.nq > 1;
  if (a.type == RowType::F32) qd.assign(a.queries, a.queries + a.nq * dim);
  if (a.type != RowType::F32 || batch) {
    qf.assign(a.queries, a.queries + a.nq * dim);
    if (a.type == RowType::I8 && a.scales) {
      for (int64_t i = 0; i < a.nq * dim; i++) qf[i] *= a.scales[i % dim];
    }
  }
  // No thread gets fewer than ~4096 rows: below that, starting it costs more than it saves. A large batch over
  // few rows (k-means: thousands of points against a few thousand centroids) splits the queries instead.
  int64_t maxUseful = std::max<int64_t>(1, a.count / 4096);
  int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(a.threads, maxUseful)));
  const bool splitQueries = threads < a.threads && a.nq >= 64 && a.count * a.nq >= 4096 * 64;
  if (splitQueries) threads = static_cast<int>(std::min<int64_t>(a.threads, a.nq / 32));
  std::vector<std::vector<TopK>> heaps(splitQueries ? 1 : threads, std::vector<TopK>(a.nq, TopK(a.k)));
  auto range = [&](int t) {
    int64_t begin = 0, end = a.count, qBegin = 0, qEnd = a.nq;
    if (splitQueries) {
      qBegin = a.nq * t / threads, qEnd = a.nq * (t + 1) / threads;
    } else {
      begin = a.count * t / threads, end = a.count * (t + 1) / threads;
    }
    std::vector<TopK>& h = heaps[splitQueries ? 0 : t];
    if (batch) ScanRangeBatchAvx512(a, qd, qf, qBegin, qEnd, begin, end, h);
    else ScanRange(a, isa, qd, qf, qBegin, qEnd, begin, end, h);
  };
  if (threads == 1) {
    range(0);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    try {
      for (int t = 1; t < threads; t++) pool.emplace_back(range, t);
    } catch (...) {
      for (auto& th : pool) th.join();  // a thread that failed to start must not leave running ones unjoined
      throw;
    }
    range(0);
    for (auto& th : pool) th.join();
  }
  std::vector<Cand> merged;
  for (int64_t qi = 0; qi < a.nq; qi++) {
    merged.clear();
    for (auto& perThread : heaps) {
      const auto& items = perThread[qi].items();
      merged.insert(merged.end(), items.begin(), items.end());
    }
    std::sort(merged.begin(), merged.end(), Better);
    for (int i = 0; i < a.k; i++) {
      outRows[qi * a.k + i] = merged[i].row;
      outScores[qi * a.k + i] = merged[i].score;
    }
  }
}

}  // namespace densekit_scan

#pragma GCC diagnostic pop
