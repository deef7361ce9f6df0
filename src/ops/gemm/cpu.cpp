// gemm "cpu.simd": packed A/B panels, a Highway register-blocked micro-kernel, threads over C blocks.
//
// The structure is the classic one (Goto/BLIS): C is split among threads into rectangles; each
// thread walks its rectangle in nc-wide column blocks and kc-deep K blocks, packs the kc x nc block
// of B (into L2) and, for each mc-tall row block, the mc x kc block of A, and then sweeps a
// MR x NR micro-kernel over it, the B micro-panel staying in L1 while A panels stream from L2.
// bf16 inputs become f32 while packing, so one f32 micro-kernel serves both input dtypes.
// The epilogue (bias, activation, residual, bf16 rounding) runs on each mc x nc block of C right
// after its last K block, while the block is still in cache.
// Small M (decode shapes) goes to cpu_small_m.cpp instead, which streams B once without packing.

// ---- Shared, target-independent part (compiled once) ---------------------------------------------
#ifndef TESSEL_OPS_GEMM_CPU_SHARED_
#define TESSEL_OPS_GEMM_CPU_SHARED_

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "cpu_scratch.hpp"
#include "cpu_small_m.hpp"
#include "gemm.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::gemm {

// Everything one call needs, decoded once from the problem, config and tensors.
struct CpuGemmArgs {
  Shape s;
  const void* a = nullptr;
  const void* b = nullptr;
  const void* bias = nullptr;      // out dtype, [n]
  const void* residual = nullptr;  // out dtype, [m, n]
  void* c = nullptr;               // out dtype, [m, n]
  int64_t mc = 0, nc = 0, kc = 0;
  int threads = 0;
};


namespace detail {

inline float to_f32(float x) { return x; }
inline float to_f32(uint16_t bf16_bits) {
  const uint32_t u = uint32_t(bf16_bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Packs the rows x kc block of A whose element (i, p) is a[i*lda + p] into ceil(rows/mr) panels.
// Panel q holds rows q*mr .. q*mr+mr-1 as kc groups of mr values ([kc][mr]); rows past `rows` are
// zero, so a micro-kernel may read whole panels.
template <class T>
void pack_a(const T* a, int64_t lda, int64_t rows, int64_t kc, int mr, float* dst) {
  // One cache line of every row of the panel per step: all mr rows stream at once, which keeps
  // many misses in flight, instead of one row at a time that waits on the prefetcher per row.
  constexpr int64_t kStep = 64 / sizeof(T);
  for (int64_t i0 = 0; i0 < rows; i0 += mr, dst += kc * mr) {
    const int64_t h = std::min<int64_t>(mr, rows - i0);
    for (int64_t p0 = 0; p0 < kc; p0 += kStep) {
      const int64_t p1 = std::min(kc, p0 + kStep);
      for (int64_t i = 0; i < h; ++i) {
        const T* src = a + (i0 + i) * lda;
        for (int64_t p = p0; p < p1; ++p) dst[p * mr + i] = to_f32(src[p]);
      }
      for (int64_t i = h; i < mr; ++i)
        for (int64_t p = p0; p < p1; ++p) dst[p * mr + i] = 0.0f;
    }
  }
}

// Packs the kc x cols block of B whose element (p, j) is b[p*sk + j*sj] into ceil(cols/nr) panels
// of [kc][nr]; columns past `cols` are zero. sj == 1 is B[K,N] row-major (b=kn), sk == 1 is
// B[N,K] row-major (b=nk); both get a loop whose inner accesses are contiguous in the source.
template <class T>
void pack_b(const T* b, int64_t sk, int64_t sj, int64_t kc, int64_t cols, int nr, float* dst) {
  const int64_t panels = (cols + nr - 1) / nr;
  if (sj == 1) {
    // Row by row: each source row is read front to back (prefetch-friendly), its nr-wide pieces
    // going to consecutive panels.
    for (int64_t p = 0; p < kc; ++p) {
      const T* src = b + p * sk;
      for (int64_t q = 0; q < panels; ++q) {
        const int64_t j0 = q * nr, w = std::min<int64_t>(nr, cols - j0);
        float* d = dst + q * kc * nr + p * nr;
        for (int64_t j = 0; j < w; ++j) d[j] = to_f32(src[j0 + j]);
        for (int64_t j = w; j < nr; ++j) d[j] = 0.0f;
      }
    }
    return;
  }
  // B[N,K]: a panel's columns are source rows; as in pack_a, step through all of them one cache
  // line at a time.
  constexpr int64_t kStep = 64 / sizeof(T);
  for (int64_t q = 0; q < panels; ++q, dst += kc * nr) {
    const int64_t j0 = q * nr, w = std::min<int64_t>(nr, cols - j0);
    for (int64_t p0 = 0; p0 < kc; p0 += kStep) {
      const int64_t p1 = std::min(kc, p0 + kStep);
      for (int64_t j = 0; j < w; ++j) {
        const T* src = b + (j0 + j) * sj;
        for (int64_t p = p0; p < p1; ++p) dst[p * nr + j] = to_f32(src[p * sk]);
      }
      for (int64_t j = w; j < nr; ++j)
        for (int64_t p = p0; p < p1; ++p) dst[p * nr + j] = 0.0f;
    }
  }
}

template void pack_a<float>(const float*, int64_t, int64_t, int64_t, int, float*);
template void pack_a<uint16_t>(const uint16_t*, int64_t, int64_t, int64_t, int, float*);
template void pack_b<float>(const float*, int64_t, int64_t, int64_t, int64_t, int, float*);
template void pack_b<uint16_t>(const uint16_t*, int64_t, int64_t, int64_t, int64_t, int, float*);

}  // namespace detail
}  // namespace tessel::gemm

#endif  // TESSEL_OPS_GEMM_CPU_SHARED_

// ---- Per-target part (compiled once for every Highway target) -------------------------------------
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/gemm/cpu.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"
#include "tessel/cpu/simd_io-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tessel::gemm::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// DF, VF, kLanes and the f32/bf16 epilogue loads and stores (LoadAsF32, StoreF32As) come from
// tessel/cpu/simd_io-inl.h, compiled for this same target.
using namespace cpu::HWY_NAMESPACE;

// Micro-tile: kMR rows x kNR columns of C live in 2*kMR vector registers for the whole K loop.
// With 32 registers (AVX-512) 14 rows use 28 accumulators, 2 for the B row and 1 broadcast; with
// 16 registers (AVX2, SSE4) 6 rows use 12 + 3.
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr int kMR = 14;
#elif HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
constexpr int kMR = 4;
#else
constexpr int kMR = 6;
#endif
constexpr int kNR = int(2 * kLanes);

// C[0:MR, 0:kNR] (+)= Apanel[kc][kMR] . Bpanel[kc][kNR]. Rows of C are ldc floats apart.
template <int MR>
HWY_NOINLINE void MicroKernel(int64_t kc, const float* HWY_RESTRICT ap, const float* HWY_RESTRICT bp,
                              float* HWY_RESTRICT c, int64_t ldc, bool accumulate) {
  const DF d;
  // The C tile is touched only at the end, once per K block, and is usually not in L1 or L2 then;
  // prefetching it now hides that miss behind the K loop instead of stalling on it afterwards.
  HWY_UNROLL(14)
  for (int i = 0; i < MR; ++i) {
    hwy::Prefetch(c + i * ldc);
    hwy::Prefetch(c + i * ldc + kNR - 1);
  }
  VF acc0[MR], acc1[MR];
  HWY_UNROLL(14)
  for (int i = 0; i < MR; ++i) {
    acc0[i] = hn::Zero(d);
    acc1[i] = hn::Zero(d);
  }
  for (int64_t p = 0; p < kc; ++p) {
    const VF b0 = hn::Load(d, bp);
    const VF b1 = hn::Load(d, bp + kLanes);
    HWY_UNROLL(14)
    for (int i = 0; i < MR; ++i) {
      const VF a = hn::Set(d, ap[i]);
      acc0[i] = hn::MulAdd(a, b0, acc0[i]);
      acc1[i] = hn::MulAdd(a, b1, acc1[i]);
    }
    ap += kMR;
    bp += kNR;
  }
  HWY_UNROLL(14)
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    if (accumulate) {
      acc0[i] = hn::Add(acc0[i], hn::LoadU(d, row));
      acc1[i] = hn::Add(acc1[i], hn::LoadU(d, row + kLanes));
    }
    hn::StoreU(acc0[i], d, row);
    hn::StoreU(acc1[i], d, row + kLanes);
  }
}

using MicroKernelFn = void (*)(int64_t, const float*, const float*, float*, int64_t, bool);

template <size_t... I>
constexpr auto MakeKernelTable(std::index_sequence<I...>) {
  return std::array<MicroKernelFn, sizeof...(I)>{&MicroKernel<int(I) + 1>...};
}
// kKernels[r - 1] handles r rows, so row tails cost no wasted FMAs.
constexpr auto kKernels = MakeKernelTable(std::make_index_sequence<kMR>());

// One micro-tile with `rows` x `cols` valid. Column tails go through a full-width tile on the
// stack, so no store ever touches C outside the tile.
HWY_INLINE void Tile(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int64_t rows,
                     int64_t cols, bool accumulate) {
  const MicroKernelFn kernel = kKernels[size_t(rows - 1)];
  if (cols == kNR) {
    kernel(kc, ap, bp, c, ldc, accumulate);
    return;
  }
  HWY_ALIGN float tile[kMR * kNR];
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) tile[i * kNR + j] = accumulate ? c[i * ldc + j] : 0.0f;
    for (int64_t j = cols; j < kNR; ++j) tile[i * kNR + j] = 0.0f;
  }
  kernel(kc, ap, bp, tile, kNR, true);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) c[i * ldc + j] = tile[i * kNR + j];
}

// ---- Epilogue --------------------------------------------------------------------------------------

HWY_INLINE VF Activate(Activation act, VF x) {
  const DF d;
  switch (act) {
    case Activation::silu: {
      // exp's valid range ends at 104; beyond 88 the result is +inf anyway and x / inf = -0.
      const VF e = hn::Exp(d, hn::Min(hn::Neg(x), hn::Set(d, 100.0f)));
      return hn::Div(x, hn::Add(hn::Set(d, 1.0f), e));
    }
    case Activation::gelu: {
      const VF c = hn::Set(d, 0.7978845608028654f);  // sqrt(2 / pi)
      const VF x3 = hn::Mul(hn::Mul(x, x), x);
      const VF t = hn::Tanh(d, hn::Mul(c, hn::MulAdd(hn::Set(d, 0.044715f), x3, x)));
      return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x), hn::Add(hn::Set(d, 1.0f), t));
    }
    case Activation::none: break;
  }
  return x;
}

// Writes rows x cols of the f32 accumulator block (ld `ldacc`) to C (ld `ldc`, type TOut) with
// bias, activation and residual applied. `bias` and `residual` are already offset to this block.
template <class TOut>
void Epilogue(const Shape& s, const float* acc, int64_t ldacc, int64_t rows, int64_t cols, const TOut* bias,
              const TOut* residual, TOut* c, int64_t ldc) {
  const DF d;
  auto one = [&](const float* a, const TOut* bi, const TOut* re, TOut* out) {
    VF v = hn::LoadU(d, a);
    if (bi) v = hn::Add(v, LoadAsF32(d, bi));
    v = Activate(s.act, v);
    if (re) v = hn::Add(v, LoadAsF32(d, re));
    StoreF32As(v, out);
  };
  for (int64_t i = 0; i < rows; ++i) {
    const float* a = acc + i * ldacc;
    TOut* out = c + i * ldc;
    const TOut* re = residual ? residual + i * ldc : nullptr;
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes) one(a + j, bias ? bias + j : nullptr, re ? re + j : nullptr, out + j);
    if (j < cols) {
      // The tail goes through full vectors on the stack, so it reads and writes nothing past C.
      const int64_t w = cols - j;
      HWY_ALIGN float ta[kLanes] = {};
      TOut tb[kLanes] = {}, tr[kLanes] = {}, to[kLanes];
      std::copy(a + j, a + j + w, ta);
      if (bias) std::copy(bias + j, bias + j + w, tb);
      if (re) std::copy(re + j, re + j + w, tr);
      one(ta, bias ? tb : nullptr, re ? tr : nullptr, to);
      std::copy(to, to + w, out + j);
    }
  }
}

// ---- Driver -----------------------------------------------------------------------------------------

struct Rect {
  int64_t m0, m1, n0, n1;
};

// Chooses a tm x tn grid of thread rectangles: least per-thread time, counting the micro-tiles a
// thread computes and (weighted) the panels it packs, since splitting M makes every thread pack all
// of B and splitting N makes every thread pack all of A.
void ChooseGrid(const Shape& s, int threads, int64_t nc, int* tm_out, int* tn_out) {
  const int64_t mt = (s.m + kMR - 1) / kMR, nt = (s.n + kNR - 1) / kNR;
  double best = 0;
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm != 0) continue;
    const int tn = threads / tm;
    if (tm > mt || tn > nt) continue;
    const double rows = double((mt + tm - 1) / tm * kMR), cols = double((nt + tn - 1) / tn * kNR);
    const double macs = rows * cols * double(s.k);
    const double packs = double(s.k) * (rows * std::ceil(cols / double(nc)) + cols);
    const double cost = macs + 16.0 * packs;
    if (best == 0 || cost < best) {
      best = cost;
      *tm_out = tm;
      *tn_out = tn;
    }
  }
}

template <class TIn, class TOut>
void GemmRect(const CpuGemmArgs& g, const Rect& r) {
  const Shape& s = g.s;
  const auto* A = static_cast<const TIn*>(g.a);
  const auto* B = static_cast<const TIn*>(g.b);
  const auto* bias = static_cast<const TOut*>(g.bias);
  const auto* residual = static_cast<const TOut*>(g.residual);
  auto* C = static_cast<TOut*>(g.c);
  const int64_t mc = g.mc, nc = g.nc, kc = g.kc;
  const int64_t sk = s.b == BLayout::kn ? s.n : 1, sj = s.b == BLayout::kn ? 1 : s.k;

  // f32 C accumulates in place. bf16 C accumulates in an f32 block of `chunk` rows x nc (about
  // 2 MiB, a whole number of mc blocks), and B is packed again for every chunk.
  constexpr bool kInPlace = sizeof(TOut) == 4;
  const bool epilogue = bias || residual || s.act != Activation::none || !kInPlace;
  const int64_t rows = r.m1 - r.m0;
  const int64_t ncap = std::min(nc, r.n1 - r.n0);
  const int64_t chunk = kInPlace ? rows : std::min(rows, std::max<int64_t>(mc, (int64_t{1} << 19) / ncap / mc * mc));

  float* pa = detail::scratch<float>(detail::ScratchSlot::simd_pack_a, size_t(mc * kc));
  float* pb = detail::scratch<float>(detail::ScratchSlot::simd_pack_b, size_t((ncap + kNR - 1) / kNR * kNR * kc));
  float* acc_buf = kInPlace ? nullptr : detail::scratch<float>(detail::ScratchSlot::simd_accum, size_t(chunk * ncap));

  for (int64_t r0 = r.m0; r0 < r.m1; r0 += chunk) {
    const int64_t r1 = std::min(r.m1, r0 + chunk);
    for (int64_t jc = r.n0; jc < r.n1; jc += nc) {
      const int64_t nb = std::min(nc, r.n1 - jc);
      float* dest;
      int64_t ld;
      if constexpr (kInPlace) {
        dest = reinterpret_cast<float*>(C) + r0 * s.n + jc;
        ld = s.n;
      } else {
        dest = acc_buf;
        ld = nb;
      }
      for (int64_t pc = 0; pc < s.k; pc += kc) {
        const int64_t kb = std::min(kc, s.k - pc);
        const bool first = pc == 0, last = pc + kb == s.k;
        detail::pack_b(B + pc * sk + jc * sj, sk, sj, kb, nb, kNR, pb);
        for (int64_t ic = r0; ic < r1; ic += mc) {
          const int64_t mb = std::min(mc, r1 - ic);
          detail::pack_a(A + ic * s.k + pc, s.k, mb, kb, kMR, pa);
          float* dblock = dest + (ic - r0) * ld;
          for (int64_t jr = 0; jr < nb; jr += kNR) {
            const float* bp = pb + jr * kb;
            const int64_t w = std::min<int64_t>(kNR, nb - jr);
            for (int64_t ir = 0; ir < mb; ir += kMR) {
              Tile(kb, pa + ir * kb, bp, dblock + ir * ld + jr, ld, std::min<int64_t>(kMR, mb - ir), w, !first);
            }
          }
          if (last && epilogue) {
            Epilogue<TOut>(s, dblock, ld, mb, nb, bias ? bias + jc : nullptr,
                           residual ? residual + ic * s.n + jc : nullptr, C + ic * s.n + jc, s.n);
          }
        }
      }
    }
  }
}

template <class TIn, class TOut>
void GemmTyped(const CpuGemmArgs& g) {
  const Shape& s = g.s;
  // Below about a million multiply-adds per thread, waking threads costs more than it saves.
  const double macs = double(s.m) * double(s.n) * double(s.k);
  int threads = g.threads > 0 ? g.threads : cpu::hardware_threads();
  threads = int(std::max<double>(1, std::min<double>(threads, macs / 1e6)));
  int tm = 1, tn = 1;
  // A thread count with no factorization that fits the tile grid (e.g. a prime above both tile
  // counts) falls back to the largest count that has one.
  while (threads > 1) {
    tm = tn = 0;
    ChooseGrid(s, threads, g.nc, &tm, &tn);
    if (tm > 0) break;
    --threads;
  }
  if (threads <= 1) tm = tn = 1;
  const int64_t mt = (s.m + kMR - 1) / kMR, nt = (s.n + kNR - 1) / kNR;
  cpu::parallel_for(int64_t(tm) * tn, tm * tn, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t ti = t / tn, tj = t % tn;
      Rect r;
      r.m0 = std::min(s.m, mt * ti / tm * kMR);
      r.m1 = std::min(s.m, mt * (ti + 1) / tm * kMR);
      r.n0 = std::min(s.n, nt * tj / tn * kNR);
      r.n1 = std::min(s.n, nt * (tj + 1) / tn * kNR);
      if (r.m0 < r.m1 && r.n0 < r.n1) GemmRect<TIn, TOut>(g, r);
    }
  });
}

void GemmCpu(const CpuGemmArgs& g) {
  if (g.s.in == DType::f32) return GemmTyped<float, float>(g);
  if (g.s.out == DType::f32) return GemmTyped<uint16_t, float>(g);
  return GemmTyped<uint16_t, uint16_t>(g);
}

// The epilogue on one accumulator block, for other CPU gemm kernels (cpu_bf16.cpp): C's type is s.out.
void EpilogueBlock(const Shape& s, const float* acc, int64_t ldacc, int64_t rows, int64_t cols, const void* bias,
                   const void* residual, void* c, int64_t ldc) {
  if (s.out == DType::f32)
    return Epilogue<float>(s, acc, ldacc, rows, cols, static_cast<const float*>(bias),
                           static_cast<const float*>(residual), static_cast<float*>(c), ldc);
  Epilogue<uint16_t>(s, acc, ldacc, rows, cols, static_cast<const uint16_t*>(bias),
                     static_cast<const uint16_t*>(residual), static_cast<uint16_t*>(c), ldc);
}

int MicroTileRows() { return kMR; }
int MicroTileCols() { return kNR; }

}  // namespace tessel::gemm::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

// ---- Registration (compiled once) -----------------------------------------------------------------
#if HWY_ONCE
namespace tessel::gemm {

HWY_EXPORT(GemmCpu);
HWY_EXPORT(EpilogueBlock);
HWY_EXPORT(MicroTileRows);
HWY_EXPORT(MicroTileCols);

void cpu_epilogue(const Shape& s, const float* acc, int64_t ldacc, int64_t rows, int64_t cols, const void* bias,
                  const void* residual, void* c, int64_t ldc) {
  HWY_DYNAMIC_DISPATCH(EpilogueBlock)(s, acc, ldacc, rows, cols, bias, residual, c, ldc);
}

namespace {

class CpuSimdGemm final : public Implementation {
 public:
  std::string name() const override { return "cpu.simd"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cpu; }
  int priority() const override { return 10; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in != DType::f32 && s.in != DType::bf16)
      return Support::no("cpu.simd handles dtype=f32 and dtype=bf16; " + std::string(dtype_name(s.in)) +
                         " needs a scaled fp8 kernel, which this implementation does not have");
    if (s.scaling != Scaling::none) return Support::no("cpu.simd has no fp8 scaling");
    return Support::yes();
  }

  std::vector<Tunable> config_space(const Problem&) const override {
    // mc rows of A (an mc x kc block sits in L2), nc columns of B (a kc x nc block, shared by all
    // of a thread's row blocks), kc the K depth of both (a kc x NR B micro-panel sits in L1).
    // mc and nc are rounded down to the micro-tile; the first value of each is the default.
    // stream_b: -1 auto (the small-M path up to kSmallMKn / kSmallMNk rows), 0 always pack B, 1
    // always stream B (any M; tests use it to reach the small-M path's row groups).
    return {
        {"stream_b", {-1, 0, 1}},
        {"mc", {168, 84, 112, 224, 336}},
        {"nc", {1024, 512, 2048, 4096}},
        {"kc", {256, 128, 192, 384, 512}},
    };
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t,
             const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    const TensorIndex ix = TensorIndex::of(s);
    if (t.size() != size_t(ix.c) + 1)
      return Status::invalid("gemm", "tensors", "expected " + std::to_string(ix.c + 1) + " tensors");
    for (const TensorView& v : t)
      if (!v.is_contiguous() || v.device != Device::cpu)
        return Status::unsupported("gemm", "tensors", "cpu.simd needs contiguous host tensors");
    const auto space = config_space(p);
    const int64_t mr = HWY_DYNAMIC_DISPATCH(MicroTileRows)();
    const int64_t nr = HWY_DYNAMIC_DISPATCH(MicroTileCols)();
    CpuGemmArgs g;
    g.s = s;
    g.a = t[size_t(ix.a)].data;
    g.b = t[size_t(ix.b)].data;
    g.bias = ix.bias >= 0 ? t[size_t(ix.bias)].data : nullptr;
    g.residual = ix.residual >= 0 ? t[size_t(ix.residual)].data : nullptr;
    g.c = t[size_t(ix.c)].data;
    const int64_t stream_b = config_value(config, space, "stream_b");
    if (stream_b == 1 || (stream_b == -1 && small_m_streams_b(s))) {
      gemm_small_m(s, g.a, g.b, g.bias, g.residual, g.c, ctx.threads);
      return {};
    }
    const int64_t mc = config_value(config, space, "mc"), nc = config_value(config, space, "nc");
    const int64_t kc = config_value(config, space, "kc");
    if (mc < 1 || nc < 1 || kc < 1) return Status::invalid("gemm", "config", "mc, nc and kc must be positive");
    // Blocks larger than the problem only cost scratch memory, so they are clamped to it.
    g.mc = std::max(mr, std::min(mc, s.m + mr - 1) / mr * mr);
    g.nc = std::max(nr, std::min(nc, s.n + nr - 1) / nr * nr);
    g.kc = std::min(kc, s.k);
    g.threads = ctx.threads;
    HWY_DYNAMIC_DISPATCH(GemmCpu)(g);
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuSimdGemm>()); }

}  // namespace tessel::gemm
#endif  // HWY_ONCE
