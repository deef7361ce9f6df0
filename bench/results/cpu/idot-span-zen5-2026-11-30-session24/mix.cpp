// Session 24 (Zen 5 EPYC VM), one thread: which vector ops take vpdpbusd's two issue pipes (cpu.lut's row-lane
// loop mix). vpternlogd, shifts, adds, moves take none; vpmaddubsw and vmulps one slot each; vpshufb about half.
// Build: g++ -O2 -std=c++20 mix.cpp -o /tmp/mix && /tmp/mix (results: ports-stores.txt)
// Session 24 (Zen 5 EPYC VM), one thread: which vector ops share vpdpbusd's two pipes (cpu.lut's row-lane loop mix).
#include <chrono>
#include <cstdio>
#include <algorithm>
#define DP8 "vpdpbusd %%zmm20, %%zmm21, %%zmm0\n vpdpbusd %%zmm20, %%zmm21, %%zmm1\n vpdpbusd %%zmm20, %%zmm21, %%zmm2\n vpdpbusd %%zmm20, %%zmm21, %%zmm3\n" \
            "vpdpbusd %%zmm20, %%zmm21, %%zmm4\n vpdpbusd %%zmm20, %%zmm21, %%zmm5\n vpdpbusd %%zmm20, %%zmm21, %%zmm6\n vpdpbusd %%zmm20, %%zmm21, %%zmm7\n" \
            "vpdpbusd %%zmm20, %%zmm21, %%zmm8\n vpdpbusd %%zmm20, %%zmm21, %%zmm9\n vpdpbusd %%zmm20, %%zmm21, %%zmm10\n vpdpbusd %%zmm20, %%zmm21, %%zmm11\n"
#define X4(op) op "%%zmm22, %%zmm23, %%zmm12\n" op "%%zmm22, %%zmm23, %%zmm13\n" op "%%zmm22, %%zmm23, %%zmm14\n" op "%%zmm22, %%zmm23, %%zmm15\n"
template <int V> __attribute__((noinline, target("avx512f,avx512bw,avx512vbmi,avx512vnni"))) void loop(long n) {
  static const float one = 1.0f;
  asm volatile("vbroadcastss %0, %%zmm22\n vbroadcastss %0, %%zmm23\n vbroadcastss %0, %%zmm24\n vpxord %%zmm20, %%zmm20, %%zmm20\n vpxord %%zmm21, %%zmm21, %%zmm21\n" :: "m"(one) : "memory");
  for (long i = 0; i < n; ++i) {
    if constexpr (V == 0) asm volatile(DP8 ::: "memory");
    if constexpr (V == 1) asm volatile(DP8 "vpternlogd $0xea, %%zmm24, %%zmm22, %%zmm12\n vpternlogd $0xea, %%zmm24, %%zmm22, %%zmm13\n vpternlogd $0xea, %%zmm24, %%zmm22, %%zmm14\n vpternlogd $0xea, %%zmm24, %%zmm22, %%zmm15\n" ::: "memory");
    if constexpr (V == 2) asm volatile(DP8 "vpsrlw $4, %%zmm22, %%zmm12\n vpsrlw $4, %%zmm22, %%zmm13\n vpsrlw $4, %%zmm22, %%zmm14\n vpsrlw $4, %%zmm22, %%zmm15\n" ::: "memory");
    if constexpr (V == 3) asm volatile(DP8 "vmovdqa64 %%zmm22, %%zmm12\n vmovdqa64 %%zmm22, %%zmm13\n vmovdqa64 %%zmm22, %%zmm14\n vmovdqa64 %%zmm22, %%zmm15\n" ::: "memory");
    if constexpr (V == 4) asm volatile(DP8 X4("vpaddd ") ::: "memory");
    if constexpr (V == 5) asm volatile(DP8 X4("vpmaddubsw ") ::: "memory");
    if constexpr (V == 6) asm volatile(DP8 X4("vpaddw ") ::: "memory");
    if constexpr (V == 7) asm volatile(DP8 X4("vaddps ") ::: "memory");
    if constexpr (V == 8) asm volatile(DP8 X4("vmulps ") ::: "memory");
    if constexpr (V == 9) asm volatile(DP8 X4("vpshufb ") ::: "memory");
  }
}
template <int V> void run(const char* name) {
  const long n = 20000000;
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    loop<V>(n);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  printf("%-32s %.3f ns per 12 vpdpbusd (6 cycles at peak = %.3f)\n", name, best / n * 1e9, 6 / 4.1);
}
int main() {
  run<0>("12 dp"); run<1>("12 dp + 4 vpternlogd"); run<2>("12 dp + 4 vpsrlw"); run<3>("12 dp + 4 reg moves");
  run<4>("12 dp + 4 vpaddd"); run<5>("12 dp + 4 vpmaddubsw"); run<6>("12 dp + 4 vpaddw"); run<7>("12 dp + 4 vaddps"); run<8>("12 dp + 4 vmulps"); run<9>("12 dp + 4 vpshufb");
}
