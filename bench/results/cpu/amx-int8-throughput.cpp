// Is an AMX-INT8 route for qgemm prefill worth building? One core, data in L1, three loops over the
// same work (16 x 16 int32 outputs per 32 of K, the unit of cpu.idot's per-32 activation steps):
//   vnni:       128 vpdpbusd (64 multiply-adds each) per unit, as cpu.idot issues them;
//   amx:        one tdpbusd (16 x 16 x 32) per unit into a resident C tile (the tiles' own rate);
//   amx+epi:    one tdpbusd per unit into a zeroed C tile, then the per-32 epilogue cpu.idot's
//               design needs: store the tile, and per row convert, subtract, scale, add into f32.
// Units per second are printed for each (higher is better); amx+epi / vnni is the kernel speedup the
// route could give. See docs/formats.md ("Next for prefill").
// On the 2-vCPU Sapphire Rapids VM (2026-11-28 23:25 UTC, load 1.2, three runs): vnni 3.5-3.6e7,
// amx 1.95-1.96e8 (5.4x vnni), amx+epilogue 5.1-5.3e7 units/s: the per-32 epilogue takes three
// quarters of the time, and the route gives 1.43-1.50x the VNNI loop.
// Build and run (GCC 12 or clang): g++ -O2 -std=c++20 bench/results/cpu/amx-int8-throughput.cpp -o /tmp/amx && /tmp/amx
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

// Linux hands out the AMX tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM, XTILEDATA).
bool request_amx() { return syscall(SYS_arch_prctl, 0x1023, 18) == 0; }

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

alignas(64) int8_t a_tile[16 * 32];       // 16 rows x 32 bytes of K (unsigned codes)
alignas(64) int8_t b_tile[8 * 64];        // 8 rows (K / 4) x 16 columns x 4 bytes (signed, VNNI)
alignas(64) int32_t c_tile[16 * 16];
alignas(64) float acc[16 * 16];

template <int kMode>  // 1: tdpbusd only, 2: tdpbusd + epilogue
__attribute__((target("amx-tile,amx-int8,avx512f"), noinline)) float run_amx(long units) {
  TileConfig cfg;
  cfg.colsb[0] = 64, cfg.rows[0] = 16;  // C
  cfg.colsb[1] = 32, cfg.rows[1] = 16;  // A
  cfg.colsb[2] = 64, cfg.rows[2] = 8;   // B
  _tile_loadconfig(&cfg);
  _tile_loadd(1, a_tile, 32);
  _tile_loadd(2, b_tile, 64);
  _tile_zero(0);
  const __m512 step = _mm512_set1_ps(1e-3f), offset = _mm512_set1_ps(3.0f);
  for (long u = 0; u < units; ++u) {
    if constexpr (kMode == 2) _tile_zero(0);
    _tile_dpbusd(0, 1, 2);
    if constexpr (kMode == 2) {
      _tile_stored(0, c_tile, 64);
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r) {
        const __m512 v = _mm512_cvtepi32_ps(_mm512_load_si512(c_tile + 16 * r));
        _mm512_store_ps(acc + 16 * r, _mm512_fmadd_ps(_mm512_sub_ps(v, offset), step, _mm512_load_ps(acc + 16 * r)));
      }
    }
  }
  _tile_stored(0, c_tile, 64);
  _tile_release();
  float s = 0;
  for (int i = 0; i < 256; ++i) s += float(c_tile[i]) + acc[i];
  return s;
}

__attribute__((target("avx512f,avx512bw,avx512vnni"), noinline)) float run_vnni(long units) {
  // 16 accumulators (16 m rows x 16 n lanes), 8 quads of K per unit of 32: 16 x 8 = 128 vpdpbusd.
  __m512i c[16];
  for (auto& x : c) x = _mm512_setzero_si512();
  __m512i w = _mm512_set1_epi8(3);
  for (long u = 0; u < units; ++u) {
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) {
#pragma GCC unroll 16
      for (int m = 0; m < 16; ++m) c[m] = _mm512_dpbusd_epi32(c[m], w, _mm512_set1_epi32(int(a_tile[m * 32 + q * 4])));
    }
    __asm__ volatile("" : "+v"(w));
  }
  int32_t lanes[16];
  float s = 0;
  for (auto& x : c) {
    _mm512_storeu_si512(lanes, x);
    for (int32_t v : lanes) s += float(v);
  }
  return s;
}

template <class F>
double rate(F f, long units) {
  const auto t0 = std::chrono::steady_clock::now();
  volatile float sink = f(units);
  (void)sink;
  return double(units) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main() {
  for (int i = 0; i < 16 * 32; ++i) a_tile[i] = int8_t(i % 7);
  for (int i = 0; i < 8 * 64; ++i) b_tile[i] = int8_t(i % 5 - 2);
  if (!request_amx()) {
    std::printf("AMX tile state not granted by the kernel: nothing to measure\n");
    return 1;
  }
  for (int rep = 0; rep < 3; ++rep) {
    const double vnni = rate(run_vnni, 2000000), amx = rate(run_amx<1>, 20000000), epi = rate(run_amx<2>, 5000000);
    std::printf("units/s (16x16 outputs x 32 of K): vnni %.3g   amx %.3g   amx+epilogue %.3g   (amx+epi)/vnni %.2fx\n",
                vnni, amx, epi, epi / vnni);
  }
}
