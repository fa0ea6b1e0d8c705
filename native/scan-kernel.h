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

// Scores rows [begin, end) for every query into `heaps` (one per query).
inline void ScanRange(const ScanArgs& a, Isa isa, const std::vector<double>& qd, const std::vector<float>& qf, int64_t begin, int64_t end,
                      std::vector<TopK>& heaps) {
  const int64_t dim = a.dim;
  int64_t rowBytes = dim * (a.type == RowType::F32 ? 4 : a.type == RowType::BF16 ? 2 : 1);
  // Rows per block: ~128 KiB, so a block stays in L2 while each query of a batch visits it.
  int64_t block = a.nq == 1 ? (end - begin) : std::max<int64_t>(1, (128 * 1024) / std::max<int64_t>(1, rowBytes));
  for (int64_t b0 = begin; b0 < end; b0 += block) {
    int64_t b1 = std::min(end, b0 + block);
    for (int64_t qi = 0; qi < a.nq; qi++) {
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

// Fills outRows / outScores ([nq, k], best first) using the given code path.
inline void ScanTopK(const ScanArgs& a, Isa isa, int32_t* outRows, float* outScores) {
  const int64_t dim = a.dim;
  std::vector<double> qd;
  std::vector<float> qf;
  if (a.type == RowType::F32) {
    qd.assign(a.queries, a.queries + a.nq * dim);
  } else {
    qf.assign(a.queries, a.queries + a.nq * dim);
    if (a.type == RowType::I8 && a.scales) {
      for (int64_t i = 0; i < a.nq * dim; i++) qf[i] *= a.scales[i % dim];
    }
  }
  // No thread gets fewer than ~4096 rows: below that, starting it costs more than it saves.
  int64_t maxUseful = std::max<int64_t>(1, a.count / 4096);
  int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(a.threads, maxUseful)));
  std::vector<std::vector<TopK>> heaps(threads, std::vector<TopK>(a.nq, TopK(a.k)));
  auto range = [&](int t) {
    int64_t begin = a.count * t / threads, end = a.count * (t + 1) / threads;
    ScanRange(a, isa, qd, qf, begin, end, heaps[t]);
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
    for (int t = 0; t < threads; t++) {
      const auto& items = heaps[t][qi].items();
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
