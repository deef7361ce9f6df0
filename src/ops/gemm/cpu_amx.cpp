// AMX-BF16 building blocks (cpu_amx.hpp): the runtime check, the tile configuration and the 32 x 32
// tdpbf16ps block, compiled with target attributes so that the library builds for any x86-64.
#include "cpu_amx.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TESSEL_AMX_BUILT 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#define TESSEL_AMX_BUILT 0
#endif

namespace tessel::gemm::amx {

#if TESSEL_AMX_BUILT

#define TESSEL_AMX_TARGET \
  __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// Linux hands out the 8 KiB tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM for
// XFEATURE_XTILEDATA); asked once, for the whole process. GCC 12's __builtin_cpu_supports("amx-bf16")
// reads false on our AMX machine, so CPUID leaf 7 is read directly (EDX bit 22 AMX-BF16, 24 AMX-TILE).
bool usable() {
#if defined(__linux__)
  static const bool ok = [] {
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512bf16"))
      return false;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (!(d & (1u << 22)) || !(d & (1u << 24))) return false;
    constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return ok;
#else
  return false;
#endif
}

// The tile palette: all eight tiles 16 rows x 64 bytes. tmm0-3 hold a 32 x 32 f32 block of C,
// tmm4-5 two 16-row A tiles (32 bf16 of K each), tmm6-7 two B tiles (16 K pairs x 16 columns).
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

TESSEL_AMX_TARGET void begin() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  // GCC 12 does not see _tile_loadconfig read cfg: out of line, it dropped the stores above as dead
  // (an all-zero palette-1 config, then "illegal instruction" at the first tilezero). The empty asm
  // says the memory is used.
  asm volatile("" : : "r"(&cfg) : "memory");
  _tile_loadconfig(&cfg);
}

TESSEL_AMX_TARGET void end() { _tile_release(); }

TESSEL_AMX_TARGET void block(int64_t steps, const uint16_t* pa, int64_t lda, const uint32_t* pb, float* out) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const int64_t sa = lda * int64_t(sizeof(uint16_t));
  for (int64_t st = 0; st < steps; ++st) {
    const uint16_t* a = pa + st * 2 * kKPairs;
    const uint32_t* b = pb + st * kKPairs * kCols;
    _tile_loadd(4, a, sa);
    _tile_loadd(5, a + 16 * lda, sa);
    _tile_loadd(6, b, kCols * 4);
    _tile_loadd(7, b + 16, kCols * 4);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, kCols * 4);
  _tile_stored(1, out + 16, kCols * 4);
  _tile_stored(2, out + 16 * kCols, kCols * 4);
  _tile_stored(3, out + 16 * kCols + 16, kCols * 4);
}

TESSEL_AMX_TARGET void add_block(const float* out, float* c, int64_t ldc, int64_t rows, int64_t cols, bool accumulate) {
  const __mmask16 m0 = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? __mmask16(0xffff) : cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1);
  for (int64_t i = 0; i < rows; ++i) {
    __m512 v0 = _mm512_load_ps(out + i * kCols), v1 = _mm512_load_ps(out + i * kCols + 16);
    float* row = c + i * ldc;
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row + 16, m1, v1);
  }
}

#else  // !TESSEL_AMX_BUILT: never called, usable() is false

bool usable() { return false; }
void begin() {}
void end() {}
void block(int64_t, const uint16_t*, int64_t, const uint32_t*, float*) {}
void add_block(const float*, float*, int64_t, int64_t, int64_t, bool) {}

#endif

}  // namespace tessel::gemm::amx
