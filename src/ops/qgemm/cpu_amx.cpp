// qgemm "cpu.amx": bit-plane weights decoded to bf16 on the fly into AMX B tiles (tdpbf16ps), for
// prefill-sized M. Every weight is decoded once per call (per block of M rows, at most 512 of them)
// and then serves all those rows, so the decode is a small share of the work once M is in the
// hundreds; at small M the table lookups of cpu.lut are faster, which is why this ranks below them.
//
// Numerics: a weight becomes bf16(scale * (code - zero)) and an activation bf16(x), so each product
// carries two bf16 roundings (relative 2^-9 each) and the sums are f32. That is inside the spec's
// tolerance, which is built on cpu.lut's coarser int8 activations; cpu.dequant stays the f32 route.
//
// Blocking: threads own disjoint ranges of 64-row weight tiles (so disjoint columns of Y). Per block
// of up to 512 rows of X (packed to bf16 once, by all threads; fewer rows when K is so long that
// they would pass 64 MiB) and 512 of K, a thread decodes each of its tiles into two 32-column B
// panels (64 KiB) and sweeps the X block over them in 32 x 32 blocks, adding into Y. That part of
// the X block (512 KiB) stays in L2 across the thread's tiles.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "cpu_common.hpp"
#include "ops/gemm/cpu_amx.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TESSEL_QGEMM_AMX_BUILT 1
#include <immintrin.h>
#else
#define TESSEL_QGEMM_AMX_BUILT 0
#endif

namespace tessel::qgemm {
namespace {

namespace amx = tessel::gemm::amx;

constexpr int64_t kRowBlock = 512;  // rows of X per pass, at most
constexpr int64_t kXBytes = int64_t{64} << 20;  // and at most this much bf16 X per pass (long K)
constexpr int64_t kKBlock = 512;    // values of K per decoded panel (a multiple of 32)

#if TESSEL_QGEMM_AMX_BUILT

#define TESSEL_QAMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,f16c")))

// GCC 12 reports the intrinsics' own _mm512_undefined_* temporaries as maybe-uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Scale (or zero point) of the 64 rows of `tile` in group g, as f32.
TESSEL_QAMX_TARGET void load_group(const CpuArgs& a, const void* src, int64_t tile, int64_t g, float* out) {
  const int64_t base = (tile * a.groups + g) * quant::kTileRows;
  for (int64_t r = 0; r < quant::kTileRows; r += 16) {
    __m512 v;
    switch (a.s.fmt.scale_dtype) {
      case DType::f16:
        v = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(src) + base + r)));
        break;
      case DType::bf16:
        v = _mm512_castsi512_ps(_mm512_slli_epi32(
            _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(src) + base + r))), 16));
        break;
      default: v = _mm512_loadu_ps(static_cast<const float*>(src) + base + r);
    }
    _mm512_storeu_ps(out + r, v);
  }
}

// Rows [r0, r1) of X as bf16 (round to nearest even), K padded with zeros to kpad; rows of the
// block past m are zero.
TESSEL_QAMX_TARGET void pack_x(const CpuArgs& a, int64_t r0, int64_t r1, int64_t kpad, uint16_t* dst) {
  const int64_t k = a.s.k;
  for (int64_t r = r0; r < r1; ++r) {
    uint16_t* d = dst + (r - r0) * kpad;
    if (r >= a.s.m) {
      std::memset(d, 0, size_t(kpad) * 2);
      continue;
    }
    if (a.s.act == DType::bf16) {
      std::memcpy(d, static_cast<const uint16_t*>(a.x) + r * k, size_t(k) * 2);
    } else {
      const float* x = static_cast<const float*>(a.x) + r * k;
      int64_t i = 0;
      for (; i + 16 <= k; i += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i)));
      if (i < k) {
        const __mmask16 m = __mmask16((1u << (k - i)) - 1);
        const __m256i v = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i));
        _mm256_mask_storeu_epi16(d + i, m, v);
      }
    }
    std::memset(d + k, 0, size_t(kpad - k) * 2);
  }
}

// Decodes octets [o0, o1) of `tile` into two B panels (columns 0-31 and 32-63 of the tile), each
// [kp pairs][32] words of (bf16 even K, bf16 odd K); pairs past the last octet are zero.
//
// Bit-plane layout (docs/formats.md): per octet, planes 2j and 2j+1 are 128 bytes, one 16-bit word
// per row (low byte plane 2j), bit t of a byte being weight t of the octet; an odd top plane is 64
// bytes, word i holding row i (low byte) and row i + 32 (high byte).
template <int P, bool ODD>
TESSEL_QAMX_TARGET void decode_panels(const CpuArgs& a, int64_t tile, int64_t o0, int64_t o1, int64_t kp,
                                      uint32_t* panel0, uint32_t* panel1) {
  constexpr int B = 2 * P + (ODD ? 1 : 0);
  const PlaneWeights pw = PlaneWeights::of(a.s.fmt);
  const bool zeros = a.s.fmt.has_zeros();
  const int64_t group_octets = a.s.fmt.group == 0 ? a.octets : a.s.fmt.group / quant::kOctet;
  const uint8_t* wt = a.w + tile * a.octets * B * quant::kTileRows;
  alignas(64) float scale[quant::kTileRows], zero[quant::kTileRows];
  alignas(64) float vals[quant::kOctet][quant::kTileRows];
  int64_t loaded_group = -1;
  // Interleaves [e0..e15, o0..o15] (bf16) into pairs (e_i, o_i).
  alignas(64) static constexpr uint16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                           8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i interleave = _mm512_load_si512(kInterleave);
  const __m512i one = _mm512_set1_epi16(1);
  for (int64_t o = o0; o < o1; ++o) {
    const int64_t g = o / group_octets;
    if (g != loaded_group) {
      load_group(a, a.scales, tile, g, scale);
      if (zeros) load_group(a, a.zeros, tile, g, zero);
      loaded_group = g;
    }
    const uint8_t* wo = wt + o * B * quant::kTileRows;
    for (int h = 0; h < 2; ++h) {  // rows 32h .. 32h + 31
      __m512i planes[P > 0 ? P : 1];
      for (int j = 0; j < P; ++j) planes[j] = _mm512_loadu_si512(wo + j * 128 + h * 64);
      const __m512i top = ODD ? _mm512_loadu_si512(wo + P * 128) : _mm512_setzero_si512();
      for (int t = 0; t < quant::kOctet; ++t) {
        __m512i v = _mm512_set1_epi16(int16_t(pw.w0));
        for (int j = 0; j < P; ++j) {
          const __m512i lo = _mm512_and_si512(_mm512_srli_epi16(planes[j], unsigned(t)), one);
          const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(planes[j], unsigned(t + 8)), one);
          v = _mm512_add_epi16(v, _mm512_mullo_epi16(lo, _mm512_set1_epi16(int16_t(pw.c[2 * j]))));
          v = _mm512_add_epi16(v, _mm512_mullo_epi16(hi, _mm512_set1_epi16(int16_t(pw.c[2 * j + 1]))));
        }
        if constexpr (ODD) {
          const __m512i bit = _mm512_and_si512(_mm512_srli_epi16(top, unsigned(t + 8 * h)), one);
          v = _mm512_add_epi16(v, _mm512_mullo_epi16(bit, _mm512_set1_epi16(int16_t(pw.c[2 * P]))));
        }
        for (int q = 0; q < 2; ++q) {  // 16 rows each
          const int64_t r = 32 * h + 16 * q;
          __m512 f = _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(q == 0 ? _mm512_castsi512_si256(v) : _mm512_extracti64x4_epi64(v, 1)));
          if (zeros) f = _mm512_sub_ps(f, _mm512_load_ps(zero + r));
          _mm512_store_ps(&vals[t][r], _mm512_mul_ps(f, _mm512_load_ps(scale + r)));
        }
      }
    }
    const int64_t p0 = (o - o0) * (quant::kOctet / 2);
    for (int64_t pair = 0; pair < quant::kOctet / 2; ++pair)
      for (int64_t r = 0; r < quant::kTileRows; r += 16) {
        const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(_mm512_load_ps(&vals[2 * pair + 1][r]), _mm512_load_ps(&vals[2 * pair][r]));
        uint32_t* dst = (r < 32 ? panel0 : panel1) + (p0 + pair) * amx::kCols + (r % 32);
        _mm512_storeu_si512(dst, _mm512_permutexvar_epi16(interleave, both));
      }
  }
  for (int64_t p = (o1 - o0) * (quant::kOctet / 2); p < kp; ++p) {
    _mm512_storeu_si512(panel0 + p * amx::kCols, _mm512_setzero_si512());
    _mm512_storeu_si512(panel0 + p * amx::kCols + 16, _mm512_setzero_si512());
    _mm512_storeu_si512(panel1 + p * amx::kCols, _mm512_setzero_si512());
    _mm512_storeu_si512(panel1 + p * amx::kCols + 16, _mm512_setzero_si512());
  }
}

using DecodeFn = void (*)(const CpuArgs&, int64_t, int64_t, int64_t, int64_t, uint32_t*, uint32_t*);

DecodeFn decoder(int bits) {
  switch (bits) {
    case 1: return &decode_panels<0, true>;
    case 2: return &decode_panels<1, false>;
    case 3: return &decode_panels<1, true>;
    case 4: return &decode_panels<2, false>;
    case 5: return &decode_panels<2, true>;
    case 6: return &decode_panels<3, false>;
    case 7: return &decode_panels<3, true>;
    default: return &decode_panels<4, false>;
  }
}

void amx_qgemm(const CpuArgs& a) {
  const Shape& s = a.s;
  const int64_t kpad = (a.octets * quant::kOctet + 31) / 32 * 32;  // whole AMX steps
  // Rows of X per pass: up to 512, fewer when K is so long that 512 bf16 rows would pass kXBytes.
  const int64_t row_block = std::clamp<int64_t>(kXBytes / (2 * kpad) / amx::kRows * amx::kRows, amx::kRows, kRowBlock);
  const int64_t rows = std::min(row_block, (s.m + amx::kRows - 1) / amx::kRows * amx::kRows);
  const DecodeFn decode = decoder(s.fmt.bits);
  const int threads = call_threads(a, cpu::hardware_threads());
  auto* xb = static_cast<uint16_t*>(scratch_bytes<7>(size_t(rows * kpad) * 2));
  for (int64_t m0 = 0; m0 < s.m; m0 += row_block) {
    const int64_t mb = std::min(row_block, s.m - m0);
    const int64_t mpad = (mb + amx::kRows - 1) / amx::kRows * amx::kRows;
    cpu::parallel_for(mpad, threads, [&](int64_t r0, int64_t r1) { pack_x(a, m0 + r0, m0 + r1, kpad, xb + r0 * kpad); });
    cpu::parallel_for(a.tiles, threads, [&](int64_t t0, int64_t t1) {
      constexpr int64_t kMaxPairs = kKBlock / 2;
      auto* panels = static_cast<uint32_t*>(scratch_bytes<8>(size_t(2 * kMaxPairs * amx::kCols) * 4));
      uint32_t* panel0 = panels;
      uint32_t* panel1 = panels + kMaxPairs * amx::kCols;
      alignas(64) float out[amx::kRows * amx::kCols];
      amx::begin();
      for (int64_t k0 = 0; k0 < kpad; k0 += kKBlock) {
        const int64_t kb = std::min(kKBlock, kpad - k0);
        const int64_t o0 = k0 / quant::kOctet, o1 = std::min(a.octets, (k0 + kb) / quant::kOctet);
        for (int64_t tile = t0; tile < t1; ++tile) {
          decode(a, tile, o0, o1, kb / 2, panel0, panel1);
          const int64_t n0 = tile * quant::kTileRows;
          for (int64_t r = 0; r < mb; r += amx::kRows) {
            for (int half = 0; half < 2; ++half) {
              const int64_t c0 = n0 + 32 * half;
              if (c0 >= s.n) break;
              amx::block(kb / 32, xb + r * kpad + k0, kpad, half == 0 ? panel0 : panel1, out);
              amx::add_block(out, a.y + (m0 + r) * s.n + c0, s.n, std::min<int64_t>(amx::kRows, mb - r),
                             std::min<int64_t>(amx::kCols, s.n - c0), k0 > 0);
            }
          }
        }
      }
      amx::end();
    });
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#else  // !TESSEL_QGEMM_AMX_BUILT

void amx_qgemm(const CpuArgs&) {}  // never called: supports() refuses first

#endif

class CpuAmxQgemm final : public Implementation {
 public:
  std::string name() const override { return "cpu.amx"; }
  std::string op() const override { return "qgemm"; }
  Device device() const override { return Device::cpu; }
  // Below the table routes: at small M decoding every weight costs more than it saves.
  int priority() const override { return 12; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (!s.fmt.planar())
      return Support::no("cpu.amx needs bit-plane codes (int, uint, ternary); " +
                         std::string(quant::scheme_name(s.fmt.scheme)) +
                         (s.fmt.scheme == quant::Scheme::ternary5 ? " goes to cpu.lut or cpu.dequant" : " goes to cpu.dequant"));
    if (!amx::usable())
      return Support::no_hardware("cpu.amx needs AMX-BF16 and AVX512-BF16, and the OS's leave to use AMX tiles");
    return Support::yes();
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> t, const RunContext& ctx) const override {
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("qgemm", name(), sup.reason);
    CpuArgs a;
    TESSEL_RETURN_IF_ERROR(CpuArgs::decode(p, config, t, ctx, "cpu.amx", &a));
    amx_qgemm(a);
    return {};
  }
};

}  // namespace

void register_cpu_amx(Registry& r) { r.add_impl(std::make_unique<CpuAmxQgemm>()); }

}  // namespace tessel::qgemm
