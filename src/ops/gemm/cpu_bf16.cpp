// gemm "cpu.amx" and "cpu.bf16dot": bf16 inputs, f32 accumulation on AMX tiles or AVX512-BF16.
//
// Both engines take K in pairs: tdpbf16ps (AMX) and vdpbf16ps (AVX512-BF16) multiply two bf16
// pairs per 32-bit lane and add both products to one f32. So B is packed as panels of [K/2][32]
// 32-bit words, each the pair (b[2p][j], b[2p+1][j]), which is at once two AMX B tiles side by
// side (16 pairs x 16 columns, 128 bytes a row) and two zmm vectors per K pair.
//  - cpu.amx keeps a 32 x 32 block of C in four tiles (tmm0-3) and, per 32 of K, loads two A tiles
//    (16 rows x 32 bf16 of a row-major packed A) and two B tiles for four tdpbf16ps; K is padded
//    with zeros to whole tiles and rows to 32, and the block is added into C with masked stores.
//  - cpu.bf16dot keeps a 14 x 32 tile in 28 zmm registers, A packed as [K/2][14] words broadcast
//    one per row. Where vdpbf16ps issues at the FMA's rate (AMD Zen 4/5) it computes bf16 about
//    twice as fast as cpu.simd's f32 and runs first; on the Sapphire Rapids VM we measure it issues
//    at about a quarter of that rate, so there it ranks below cpu.simd (bf16dot_at_fma_rate()).
//
// The blocking and threading follow cpu.simd (Goto/BLIS; see cpu.cpp): thread rectangles of C,
// nc-wide column blocks of packed B, kc-deep K blocks (even, so pairs never straddle a block), mc
// rows of packed A. Odd K is padded with a zero bf16, row tails get a kernel of their own height
// (or zero rows), column tails masked loads and stores, so nothing past C is read or written. The
// epilogue (bias, SiLU/GELU, residual, bf16 rounding) is cpu.simd's (cpu_epilogue in gemm.hpp), run
// on each block after its last K block; bf16dot's plain bf16 C (nothing fused) is rounded by
// vcvtneps2bf16 instead (store_bf16_plain).
//
// The kernels are compiled with target attributes and only run after a runtime CPU check (and, for
// AMX, the OS's permission), so the library still builds and runs on any x86-64; elsewhere both
// implementations say unsupported.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "cpu_amx.hpp"
#include "cpu_scratch.hpp"
#include "cpu_small_m.hpp"
#include "gemm.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TESSEL_BF16DOT_BUILT 1
#include <immintrin.h>
#else
#define TESSEL_BF16DOT_BUILT 0
#endif

namespace tessel::gemm {
namespace {

// Whether this CPU can run the kernels below (checked once; the answer cannot change).
bool cpu_has_avx512bf16() {
#if TESSEL_BF16DOT_BUILT
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
  return ok;
#else
  return false;
#endif
}

// Whether vdpbf16ps issues as often as an f32 FMA, so that cpu.bf16dot computes bf16 about twice as
// fast as cpu.simd's f32 kernel and should run before it. AMD's Zen 4 and Zen 5 do (on a 2-core
// Zen 5 EPYC VM, 2026-11-30: gemm n = m = k = 2048 bf16 in 21.2 ms against cpu.simd's 42.3 ms for
// f32 and 41.0 for bf16). On the Sapphire Rapids VM we measure it issues at about a quarter of that
// rate (0.65x cpu.simd's f32); Intel's server CPUs since then have AMX, which cpu.amx uses first.
bool bf16dot_at_fma_rate() {
#if TESSEL_BF16DOT_BUILT
  static const bool amd = __builtin_cpu_is("amd");
  return amd && cpu_has_avx512bf16();
#else
  return false;
#endif
}

// Everything one call needs, decoded once from the problem, config and tensors.
struct Bf16Args {
  Shape s;
  const uint16_t* a = nullptr;
  const uint16_t* b = nullptr;
  const void* bias = nullptr;      // out dtype, [n]
  const void* residual = nullptr;  // out dtype, [m, n]
  void* c = nullptr;               // out dtype, [m, n]
  int64_t mc = 0, nc = 0, kc = 0;  // kc even
  int threads = 0;
};

constexpr int kMR = 14;  // 28 accumulators + 2 B vectors + 1 broadcast = 31 of 32 zmm registers
constexpr int kNR = 32;  // two zmm of 16 f32 lanes; also two AMX B tiles of 16 columns
constexpr int kAmxMR = amx::kRows;
constexpr int64_t kAmxKPairs = amx::kKPairs;

// ---- AMX packing and the thread grid (plain C++, no target needed) -----------------------------------

// Packs rows x kb of A for the AMX kernel: row-major with a row stride of kpad_el bf16 (K padded to
// whole tiles) and rows padded to a multiple of kAmxMR, padding zero. An A tile is then 16 of
// these rows, loaded with one stride.
[[maybe_unused]] void pack_a_amx(const uint16_t* a, int64_t lda, int64_t rows, int64_t kb, int64_t kpad_el, uint16_t* dst) {
  const int64_t padded = (rows + kAmxMR - 1) / kAmxMR * kAmxMR;
  for (int64_t i = 0; i < padded; ++i) {
    uint16_t* d = dst + i * kpad_el;
    if (i < rows) {
      std::memcpy(d, a + i * lda, size_t(kb) * sizeof(uint16_t));
      std::fill(d + kb, d + kpad_el, uint16_t{0});
    } else {
      std::fill(d, d + kpad_el, uint16_t{0});
    }
  }
}

// Thread rectangles of C: the tm x tn grid with the least per-thread time, counting the
// micro-tiles a thread computes and (weighted) the panels it packs, as cpu.simd does.
[[maybe_unused]] void choose_grid(const Shape& s, int threads, int64_t nc, int mr, int* tm_out, int* tn_out) {
  const int64_t mt = (s.m + mr - 1) / mr, nt = (s.n + kNR - 1) / kNR;
  double best = 0;
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm != 0) continue;
    const int tn = threads / tm;
    if (tm > mt || tn > nt) continue;
    const double rows = double((mt + tm - 1) / tm * mr), cols = double((nt + tn - 1) / tn * kNR);
    const double macs = rows * cols * double(s.k);
    const double packs = double(s.k) * (rows * std::ceil(cols / double(nc)) + cols);
    const double cost = macs + 8.0 * packs;
    if (best == 0 || cost < best) {
      best = cost;
      *tm_out = tm;
      *tn_out = tn;
    }
  }
}

#if TESSEL_BF16DOT_BUILT

#define TESSEL_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps() (or _epi32), a deliberately
// self-initialized value that -Wmaybe-uninitialized reports once they are inlined, and
// -Wuninitialized too at -O1 (the sanitizer build, for the unpacks); both are false positives.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

// Packs kb x cols of B[K,N] (b=kn) into [kpad][kNR] word panels (kpad >= ceil(kb/2); pairs past K
// are zero). Rows 2p and 2p+1 of the source are interleaved element by element with one two-source
// permute per 16 output words; masked loads zero the column tail and a missing odd row.
TESSEL_BF16_TARGET void pack_b_kn(const uint16_t* b, int64_t ldb, int64_t kb, int64_t cols, int64_t kpad,
                                  uint32_t* dst) {
  const int64_t kp = (kb + 1) / 2, panels = (cols + kNR - 1) / kNR;
  alignas(64) uint16_t lo[32], hi[32];
  for (int e = 0; e < 32; ++e) {
    lo[e] = uint16_t((e & 1) ? 32 + e / 2 : e / 2);
    hi[e] = uint16_t(lo[e] + 16);
  }
  const __m512i idx_lo = _mm512_load_si512(lo), idx_hi = _mm512_load_si512(hi);
  for (int64_t p = 0; p < kp; ++p) {
    const uint16_t* r0 = b + 2 * p * ldb;
    const bool has_r1 = 2 * p + 1 < kb;
    for (int64_t q = 0; q < panels; ++q) {
      const int64_t j0 = q * kNR, w = std::min<int64_t>(kNR, cols - j0);
      const __mmask32 m = w == kNR ? ~__mmask32{0} : __mmask32((uint32_t{1} << w) - 1);
      const __m512i v0 = _mm512_maskz_loadu_epi16(m, r0 + j0);
      const __m512i v1 = has_r1 ? _mm512_maskz_loadu_epi16(m, r0 + ldb + j0) : _mm512_setzero_si512();
      uint32_t* d = dst + q * kpad * kNR + p * kNR;
      _mm512_store_si512(d, _mm512_permutex2var_epi16(v0, idx_lo, v1));
      _mm512_store_si512(d + 16, _mm512_permutex2var_epi16(v0, idx_hi, v1));
    }
  }
  for (int64_t q = 0; q < panels; ++q)
    for (int64_t p = kp; p < kpad; ++p) {
      _mm512_store_si512(dst + q * kpad * kNR + p * kNR, _mm512_setzero_si512());
      _mm512_store_si512(dst + q * kpad * kNR + p * kNR + 16, _mm512_setzero_si512());
    }
}

// Transposes a 16 x 16 block of 32-bit words held one row a register: afterwards r[j] holds what
// was column j. Three rounds of in-lane unpacks and 128-bit lane shuffles, 64 shuffles in all.
TESSEL_BF16_TARGET inline void transpose16x16_epi32(__m512i r[16]) {
  __m512i a[16], b[16];
  for (int i = 0; i < 8; ++i) {  // words of rows 2i, 2i+1 interleaved, within each 128-bit lane
    a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // lane L of b[4i + c] holds column 4L + c of rows 4i..4i+3
    b[4 * i] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
    b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
  }
  for (int c = 0; c < 4; ++c) {  // a 4 x 4 transpose of 128-bit lanes
    const __m512i x0 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0x44), x1 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0xee);
    const __m512i y0 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0x44), y1 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0xee);
    r[c] = _mm512_shuffle_i32x4(x0, y0, 0x88);
    r[4 + c] = _mm512_shuffle_i32x4(x0, y0, 0xdd);
    r[8 + c] = _mm512_shuffle_i32x4(x1, y1, 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(x1, y1, 0xdd);
  }
}

// The first `full` K pairs of `rows` (at most 16) source rows, `ld` elements apart, as `full` rows
// of words `stride` apart: word i of row p is pair p of source row i, zero for i >= rows, and only
// the words `keep` selects are stored. Each source row's 16 pairs are one 64-byte load (unaligned:
// a row of odd K starts at an odd element), a masked one for the last pairs, and a register
// transpose turns 16 loads into 16 rows. Both packers below are this, in panels.
TESSEL_BF16_TARGET void transpose_pairs(const uint16_t* src, int64_t ld, int64_t rows, int64_t full, uint32_t* dst,
                                        int64_t stride, __mmask16 keep) {
  for (int64_t p0 = 0; p0 < full; p0 += 16) {
    const int64_t np = std::min<int64_t>(16, full - p0);
    const __mmask16 m = np == 16 ? __mmask16(0xffff) : __mmask16((1u << np) - 1);
    __m512i r[16];
    for (int i = 0; i < 16; ++i)
      r[i] = i < rows ? _mm512_maskz_loadu_epi32(m, src + i * ld + 2 * p0) : _mm512_setzero_si512();
    transpose16x16_epi32(r);
    for (int64_t q = 0; q < np; ++q) _mm512_mask_storeu_epi32(dst + (p0 + q) * stride, keep, r[q]);
  }
}

// Packs kb x cols of B[N,K] (b=nk; row j of the source is column j of the product) into
// ceil(cols/kNR) panels of [kpad][kNR] words, kpad >= ceil(kb/2) pairs (the AMX kernel pads K to
// whole tiles); pairs past K and columns past `cols` are zero. Each panel is two transpose_pairs
// of 16 source rows. (Session 23 replaced one 16-lane gather per 16 words, which made b=nk's pack
// 2.2x the time of b=kn's on a Zen 5 EPYC: gemm m=1 n=k=4096 bf16 with the packed kernel, 4.30
// against 1.92 ms.)
TESSEL_BF16_TARGET void pack_b_nk(const uint16_t* b, int64_t ldb, int64_t kb, int64_t cols, int64_t kpad,
                                  uint32_t* dst) {
  const int64_t kp = (kb + 1) / 2, full = kb / 2;
  for (int64_t j0 = 0; j0 < cols; j0 += kNR, dst += kpad * kNR) {
    const int64_t w = std::min<int64_t>(kNR, cols - j0);
    for (int half = 0; half < 2; ++half) {  // a half past the column tail reads nothing and stores zeros
      const int64_t rows = std::clamp<int64_t>(w - 16 * half, 0, 16);
      transpose_pairs(rows > 0 ? b + (j0 + 16 * half) * ldb : b, ldb, rows, full, dst + 16 * half, kNR, __mmask16(0xffff));
    }
    for (int64_t p = full; p < kpad; ++p) {
      _mm512_store_si512(dst + p * kNR, _mm512_setzero_si512());
      _mm512_store_si512(dst + p * kNR + 16, _mm512_setzero_si512());
    }
    if (kp > full)
      for (int64_t j = 0; j < w; ++j) dst[full * kNR + j] = b[(j0 + j) * ldb + kb - 1];
  }
}

// Packs rows x kb of A (row stride lda, kb from an even K offset) into ceil(rows/kMR) panels of
// [ceil(kb/2)][kMR] words; rows past `rows` and the odd K tail's missing half are zero. Each panel
// is one transpose_pairs of its kMR rows, kMR words of each 16 stored. (The word-by-word copy this
// replaced took 9% of the kernel's time at n = m = k = 1024 on a Zen 5 EPYC, perf.)
TESSEL_BF16_TARGET void pack_a(const uint16_t* a, int64_t lda, int64_t rows, int64_t kb, uint32_t* dst) {
  const int64_t kp = (kb + 1) / 2, full = kb / 2;
  for (int64_t i0 = 0; i0 < rows; i0 += kMR, dst += kp * kMR) {
    const int64_t h = std::min<int64_t>(kMR, rows - i0);
    transpose_pairs(a + i0 * lda, lda, h, full, dst, kMR, __mmask16((1u << kMR) - 1));
    if (kp > full)
      for (int64_t i = 0; i < kMR; ++i) dst[full * kMR + i] = i < h ? a[(i0 + i) * lda + kb - 1] : 0;
  }
}

// C[0:MR, cols] (+)= Apanel . Bpanel over kp K pairs; cols given by the two 16-lane masks. Rows of
// C are ldc floats apart. The A panel's stride is always kMR, whatever MR this instance computes.
template <int MR>
TESSEL_BF16_TARGET __attribute__((noinline)) void micro_kernel(int64_t kp, const uint32_t* __restrict ap,
                                                             const uint32_t* __restrict bp, float* __restrict c,
                                                             int64_t ldc, __mmask16 m0, __mmask16 m1,
                                                             bool accumulate) {
  // The C tile is touched only after the K loop; prefetching it now hides that miss behind it.
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  for (int64_t p = 0; p < kp; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(bp);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(bp + 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(int(ap[i]));
      acc0[i] = _mm512_dpbf16_ps(acc0[i], a, b0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], a, b1);
    }
    ap += kMR;
    bp += kNR;
  }
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    if (accumulate) {
      acc0[i] = _mm512_add_ps(acc0[i], _mm512_maskz_loadu_ps(m0, row));
      acc1[i] = _mm512_add_ps(acc1[i], _mm512_maskz_loadu_ps(m1, row + 16));
    }
    _mm512_mask_storeu_ps(row, m0, acc0[i]);
    _mm512_mask_storeu_ps(row + 16, m1, acc1[i]);
  }
}

using KernelFn = void (*)(int64_t, const uint32_t*, const uint32_t*, float*, int64_t, __mmask16, __mmask16, bool);

template <int... I>
constexpr std::array<KernelFn, sizeof...(I)> make_kernels(std::integer_sequence<int, I...>) {
  return {&micro_kernel<I + 1>...};
}
// kKernels[r - 1] computes r rows, so row tails cost no wasted multiply-adds.
constexpr auto kKernels = make_kernels(std::make_integer_sequence<int, kMR>());

// ---- AMX (cpu_amx.hpp) --------------------------------------------------------------------------------

// The driver below is compiled for AMX machines; its kernels run only after amx::usable().
#define TESSEL_AMX_TARGET \
  __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))



// ---- Plain bf16 C ------------------------------------------------------------------------------------

// bf16 C with nothing fused (no bias, activation or residual): the f32 block rounded by vcvtneps2bf16
// (cpu.bf16dot runs only where AVX512-BF16 is) instead of cpu_epilogue's integer rounding. The
// instruction flushes denormal inputs to zero, but this block holds none: vdpbf16ps, which made every
// value in it, flushes its denormal results itself. So the bits are cpu_epilogue's (round to nearest
// even). On the Zen 5 VM, in one process against cpu_epilogue: 1.043x / 1.051x at 1024^3 warm, 1.031x
// cold, 0.997x at 2048^3, where the epilogue is a smaller share (session 26).
TESSEL_BF16_TARGET void store_bf16_plain(const float* acc, int64_t ld, int64_t rows, int64_t cols, uint16_t* c,
                                         int64_t ldc) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* a = acc + i * ld;
    uint16_t* out = c + i * ldc;
    for (int64_t j = 0; j < cols; j += 16) {
      const int64_t w = std::min<int64_t>(16, cols - j);
      const __mmask16 m = w == 16 ? __mmask16(0xffff) : __mmask16((1u << w) - 1);
      _mm256_mask_storeu_epi16(out + j, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, a + j)));
    }
  }
}

// ---- Driver -----------------------------------------------------------------------------------------

struct Rect {
  int64_t m0, m1, n0, n1;
};

template <class TOut, bool kAmx>
TESSEL_AMX_TARGET void gemm_rect(const Bf16Args& g, const Rect& r) {
  const Shape& s = g.s;
  const auto* bias = static_cast<const TOut*>(g.bias);
  const auto* residual = static_cast<const TOut*>(g.residual);
  auto* C = static_cast<TOut*>(g.c);
  const int64_t mc = g.mc, nc = g.nc, kc = g.kc, kpc = (kc + 1) / 2;

  // f32 C accumulates in place. bf16 C accumulates in an f32 block of `chunk` rows x nc (at most
  // 8 MiB a thread, a whole number of mc blocks), and B is packed again for every chunk. Each C
  // tile is read and written once per kc block, so the block may sit in L3; a smaller one (2 MiB
  // until session 23) packed B twice per thread at n = m = k = 1024.
  constexpr bool kInPlace = sizeof(TOut) == 4;
  const bool finish = bias || residual || s.act != Activation::none || !kInPlace;
  const int64_t rows = r.m1 - r.m0;
  const int64_t ncap = std::min(nc, r.n1 - r.n0);
  const int64_t chunk =
      kInPlace ? rows : std::min(rows, std::max<int64_t>(mc, (int64_t{1} << 21) / ncap / mc * mc));

  // The AMX kernel pads K to whole tiles (kpc to a multiple of 16 pairs) and rows to 32.
  const int64_t kpcap = kAmx ? (kpc + kAmxKPairs - 1) / kAmxKPairs * kAmxKPairs : kpc;
  uint32_t* pa = detail::scratch<uint32_t>(detail::ScratchSlot::bf16_pack_a, size_t((mc + kAmxMR - 1) / kAmxMR * kAmxMR * kpcap));
  uint32_t* pb = detail::scratch<uint32_t>(detail::ScratchSlot::bf16_pack_b, size_t((ncap + kNR - 1) / kNR * kNR * kpcap));
  float* acc_buf = kInPlace ? nullptr : detail::scratch<float>(detail::ScratchSlot::bf16_accum, size_t(chunk * ncap));
  alignas(64) float block[kAmxMR * kNR];  // the AMX kernel's 32 x 32 result, added into C with masks
  if constexpr (kAmx) amx::begin();

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
        const int64_t kp = kAmx ? ((kb + 1) / 2 + kAmxKPairs - 1) / kAmxKPairs * kAmxKPairs : (kb + 1) / 2;
        const bool first = pc == 0, last = pc + kb == s.k;
        if (s.b == BLayout::kn) pack_b_kn(g.b + pc * s.n + jc, s.n, kb, nb, kp, pb);
        else pack_b_nk(g.b + jc * s.k + pc, s.k, kb, nb, kp, pb);
        for (int64_t ic = r0; ic < r1; ic += mc) {
          const int64_t mb = std::min(mc, r1 - ic);
          auto* pa16 = reinterpret_cast<uint16_t*>(pa);
          if constexpr (kAmx) pack_a_amx(g.a + ic * s.k + pc, s.k, mb, kb, 2 * kp, pa16);
          else pack_a(g.a + ic * s.k + pc, s.k, mb, kb, pa);
          float* dblock = dest + (ic - r0) * ld;
          for (int64_t jr = 0; jr < nb; jr += kNR) {
            const int64_t w = std::min<int64_t>(kNR, nb - jr);
            const __mmask16 m0 = w >= 16 ? __mmask16(0xffff) : __mmask16((1u << w) - 1);
            const __mmask16 m1 = w >= 32 ? __mmask16(0xffff) : w <= 16 ? __mmask16(0) : __mmask16((1u << (w - 16)) - 1);
            const uint32_t* bp = pb + jr * kp;
            if constexpr (kAmx) {
              for (int64_t ir = 0; ir < mb; ir += kAmxMR) {
                amx::block(kp / kAmxKPairs, pa16 + ir * 2 * kp, 2 * kp, bp, block);
                amx::add_block(block, dblock + ir * ld + jr, ld, std::min<int64_t>(kAmxMR, mb - ir), w, !first);
              }
            } else {
              for (int64_t ir = 0; ir < mb; ir += kMR) {
                const int64_t h = std::min<int64_t>(kMR, mb - ir);
                kKernels[size_t(h - 1)](kp, pa + ir * kp, bp, dblock + ir * ld + jr, ld, m0, m1, !first);
              }
            }
          }
          if constexpr (!kInPlace && !kAmx) {  // the AMX engine keeps cpu_epilogue (not measured there)
            if (last && !bias && !residual && s.act == Activation::none) {
              store_bf16_plain(dblock, ld, mb, nb, reinterpret_cast<uint16_t*>(C) + ic * s.n + jc, s.n);
              continue;
            }
          }
          if (last && finish) {
            cpu_epilogue(s, dblock, ld, mb, nb, bias ? bias + jc : nullptr,
                         residual ? residual + ic * s.n + jc : nullptr, C + ic * s.n + jc, s.n);
          }
        }
      }
    }
  }
  if constexpr (kAmx) amx::end();
}

template <class TOut, bool kAmx>
void gemm_typed(const Bf16Args& g) {
  constexpr int mr = kAmx ? kAmxMR : kMR;
  const Shape& s = g.s;
  // Below about a million multiply-adds per thread, waking threads costs more than it saves.
  const double macs = double(s.m) * double(s.n) * double(s.k);
  int threads = g.threads > 0 ? g.threads : cpu::hardware_threads();
  threads = int(std::max<double>(1, std::min<double>(threads, macs / 1e6)));
  int tm = 1, tn = 1;
  // A thread count with no factorization that fits the tile grid falls back to the largest count
  // that has one.
  while (threads > 1) {
    tm = tn = 0;
    choose_grid(s, threads, g.nc, mr, &tm, &tn);
    if (tm > 0) break;
    --threads;
  }
  if (threads <= 1) tm = tn = 1;
  const int64_t mt = (s.m + mr - 1) / mr, nt = (s.n + kNR - 1) / kNR;
  cpu::parallel_for(int64_t(tm) * tn, tm * tn, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t ti = t / tn, tj = t % tn;
      Rect r;
      r.m0 = std::min(s.m, mt * ti / tm * mr);
      r.m1 = std::min(s.m, mt * (ti + 1) / tm * mr);
      r.n0 = std::min(s.n, nt * tj / tn * kNR);
      r.n1 = std::min(s.n, nt * (tj + 1) / tn * kNR);
      if (r.m0 < r.m1 && r.n0 < r.n1) gemm_rect<TOut, kAmx>(g, r);
    }
  });
}

void gemm_bf16(const Bf16Args& g, bool amx) {
  if (amx) {
    if (g.s.out == DType::f32) gemm_typed<float, true>(g);
    else gemm_typed<uint16_t, true>(g);
  } else {
    if (g.s.out == DType::f32) gemm_typed<float, false>(g);
    else gemm_typed<uint16_t, false>(g);
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#else  // !TESSEL_BF16DOT_BUILT

void gemm_bf16(const Bf16Args&, bool) {}  // never called: supports() and run() refuse first

#endif  // TESSEL_BF16DOT_BUILT

// ---- Registration -----------------------------------------------------------------------------------

// One class, two engines: "cpu.amx" (tdpbf16ps on AMX tiles) and "cpu.bf16dot" (vdpbf16ps on zmm
// registers). Both share the packing, blocking and threading above and cpu.simd's epilogue.
// Up to these many rows of A an engine hands the call to the small-M path (see run()): its tiles
// lose to that path's single pass over B below them. Medians, n = k = 4096 bf16, tiles against
// that path (`tessel bench ... --config stream_b=0` and `stream_b=1`):
//  - cpu.amx, 2-core Sapphire Rapids VM (2026-11-29): b=nk m=16 5.98 vs 3.93 ms, m=32 5.84 vs 5.78,
//    m=64 6.38 vs 11.83; b=kn m=16 4.08 vs 4.29, m=32 4.67 vs 7.08.
//  - cpu.bf16dot, 2-core Zen 5 EPYC VM (2026-11-30): b=nk m=8 1.73 vs 1.35, m=16 2.12 vs 2.02, m=24
//    2.33 vs 2.85; b=kn m=4 1.87 vs 1.54, m=8 2.01 vs 2.34, m=16 2.31 vs 3.31.
struct StreamRows {
  int64_t nk, kn;
};
constexpr StreamRows kAmxStreamRows{16, 8};
constexpr StreamRows kDotStreamRows{16, 4};

class CpuBf16Gemm final : public Implementation {
 public:
  explicit CpuBf16Gemm(bool amx) : amx_(amx) {}
  std::string name() const override { return amx_ ? "cpu.amx" : "cpu.bf16dot"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cpu; }
  // cpu.amx runs first wherever it is supported (4-9x cpu.simd on bf16, bench/results/cpu/README.md).
  // cpu.bf16dot runs before cpu.simd (10) where vdpbf16ps issues at the f32 FMA's rate, and after it
  // elsewhere (it stays selectable by name there).
  int priority() const override { return amx_ ? 30 : (bf16dot_at_fma_rate() ? 15 : 5); }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in != DType::bf16)
      return Support::no(name() + " handles dtype=bf16 only, not " + std::string(dtype_name(s.in)));
    if (s.scaling != Scaling::none) return Support::no(name() + " has no scaling");
    if (amx_ && !amx::usable())
      return Support::no_hardware("cpu.amx needs AMX-BF16 and the OS's permission for tile state, which this machine lacks");
    if (!cpu_has_avx512bf16())
      return Support::no_hardware(name() + " needs AVX512-BF16, which this CPU lacks; cpu.simd runs bf16 here");
    return Support::yes();
  }

  std::vector<Tunable> config_space(const Problem&) const override {
    // mc rows of A (an mc x kc block, 2 bytes an element, sits in L2), nc columns of B (a kc x nc
    // block shared by a thread's row blocks), kc the K depth (even; a kc x 32 B micro-panel, 64*kc
    // bytes, sits in L1). mc and nc are rounded down to the micro-tile; the first value is the
    // default. The AMX engine pads each K block to a multiple of 32, so its kc values are.
    // stream_b: -1 auto (small M takes cpu.simd's streaming path, see run()), 0 always this engine's
    // tiles, 1 always the streaming path.
    if (amx_)
      return {
          {"mc", {256, 128, 384, 512}},
          {"nc", {1024, 512, 2048, 4096}},
          {"kc", {512, 256, 384, 768, 1024}},
          {"stream_b", {-1, 0, 1}},
      };
    // bf16dot's nc is 512: its kc x nc block of B is then 512 KiB, which fits with A's block in the
    // 1 MiB L2 of the AMD cores it runs first on (at 1024 it took all of it): in one process on the
    // Zen 5 VM, 1.03-1.05x at 1024^3 (b=kn, b=nk, bf16 C), 1.03-1.04x at 2048^3, 1.02x at 4096^3 and
    // 1.01x at m = 512, n = k = 4096 (session 26). cpu.simd's f32 measured 0.97-1.01x with 512 and keeps 1024.
    return {
        {"mc", {336, 168, 224, 448, 672}},
        {"nc", {512, 1024, 2048, 4096}},
        {"kc", {512, 256, 384, 640, 768}},
        {"stream_b", {-1, 0, 1}},
    };
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t,
             const RunContext& ctx) const override {
    const Support sup = supports(p);
    if (!sup.ok) return Status::unsupported("gemm", name(), sup.reason);
    const Shape s = Shape::from(p);
    const TensorIndex ix = TensorIndex::of(s);
    if (t.size() != size_t(ix.c) + 1)
      return Status::invalid("gemm", "tensors", "expected " + std::to_string(ix.c + 1) + " tensors");
    for (const TensorView& v : t)
      if (!v.is_contiguous() || v.device != Device::cpu)
        return Status::unsupported("gemm", "tensors", name() + " needs contiguous host tensors");
    if (t[size_t(ix.a)].dtype != DType::bf16 || t[size_t(ix.b)].dtype != DType::bf16 || t[size_t(ix.c)].dtype != s.out)
      return Status::invalid("gemm", "tensors", name() + ": tensor dtypes do not match the problem");
    const auto space = config_space(p);
    const int64_t mc = config_value(config, space, "mc"), nc = config_value(config, space, "nc");
    const int64_t kc = config_value(config, space, "kc");
    if (mc < 1 || nc < 1 || kc < 2) return Status::invalid("gemm", "config", "mc, nc must be positive and kc at least 2");
    // Packing B costs more than either engine's tiles save at small M, so decode shapes take
    // cpu.simd's small-M path (B streamed once, in place), which these implementations rank above.
    const int64_t stream_b = config_value(config, space, "stream_b");
    const StreamRows rows = amx_ ? kAmxStreamRows : kDotStreamRows;
    if (stream_b == 1 || (stream_b == -1 && s.m <= (s.b == BLayout::nk ? rows.nk : rows.kn))) {
      gemm_small_m(s, t[size_t(ix.a)].data, t[size_t(ix.b)].data, ix.bias >= 0 ? t[size_t(ix.bias)].data : nullptr,
                   ix.residual >= 0 ? t[size_t(ix.residual)].data : nullptr, t[size_t(ix.c)].data, ctx.threads);
      return {};
    }
    const int64_t mr = amx_ ? kAmxMR : kMR;
    Bf16Args g;
    g.s = s;
    g.a = static_cast<const uint16_t*>(t[size_t(ix.a)].data);
    g.b = static_cast<const uint16_t*>(t[size_t(ix.b)].data);
    g.bias = ix.bias >= 0 ? t[size_t(ix.bias)].data : nullptr;
    g.residual = ix.residual >= 0 ? t[size_t(ix.residual)].data : nullptr;
    g.c = t[size_t(ix.c)].data;
    // Blocks larger than the problem only cost scratch memory, so they are clamped to it; kc stays
    // even so that K pairs never straddle two blocks.
    g.mc = std::max(mr, std::min(mc, s.m + mr - 1) / mr * mr);
    g.nc = std::max<int64_t>(kNR, std::min(nc, s.n + kNR - 1) / kNR * kNR);
    g.kc = std::min(kc / 2 * 2, (s.k + 1) / 2 * 2);
    g.threads = ctx.threads;
    gemm_bf16(g, amx_);
    return {};
  }

 private:
  bool amx_;
};

}  // namespace

void register_cpu_bf16(Registry& r) {
  r.add_impl(std::make_unique<CpuBf16Gemm>(true));
  r.add_impl(std::make_unique<CpuBf16Gemm>(false));
}

}  // namespace tessel::gemm
