// Session 24 (Zen 5 EPYC VM), one thread: throughput of vpermb zmm, of vfmadd231ps with an embedded {1to16}
// broadcast against a register operand, and of vpdpbusd beside vpermb (cpu.lut's row-lane loop).
#include <chrono>
#include <cstdio>
#include <algorithm>
alignas(64) static float buf[1 << 12];
#define P8(d) "vpermb %%zmm20, %%zmm21, %%zmm" #d "\n"
template <int V> __attribute__((noinline, target("avx512f,avx512vbmi,avx512vnni"))) void loop(long n, float* p) {
  for (long i = 0; i < n; ++i) {
    if constexpr (V == 0) asm volatile(P8(0) P8(1) P8(2) P8(3) P8(4) P8(5) P8(6) P8(7) ::: "memory");
    if constexpr (V == 1) asm volatile("vfmadd231ps (%0)%{1to16%}, %%zmm20, %%zmm0\n vfmadd231ps 4(%0)%{1to16%}, %%zmm20, %%zmm1\n vfmadd231ps 8(%0)%{1to16%}, %%zmm20, %%zmm2\n vfmadd231ps 12(%0)%{1to16%}, %%zmm20, %%zmm3\n"
                                       "vfmadd231ps 16(%0)%{1to16%}, %%zmm20, %%zmm4\n vfmadd231ps 20(%0)%{1to16%}, %%zmm20, %%zmm5\n vfmadd231ps 24(%0)%{1to16%}, %%zmm20, %%zmm6\n vfmadd231ps 28(%0)%{1to16%}, %%zmm20, %%zmm7\n" ::"r"(p) : "memory");
    if constexpr (V == 2) asm volatile("vfmadd231ps %%zmm21, %%zmm20, %%zmm0\n vfmadd231ps %%zmm21, %%zmm20, %%zmm1\n vfmadd231ps %%zmm21, %%zmm20, %%zmm2\n vfmadd231ps %%zmm21, %%zmm20, %%zmm3\n"
                                       "vfmadd231ps %%zmm21, %%zmm20, %%zmm4\n vfmadd231ps %%zmm21, %%zmm20, %%zmm5\n vfmadd231ps %%zmm21, %%zmm20, %%zmm6\n vfmadd231ps %%zmm21, %%zmm20, %%zmm7\n" ::: "memory");
    if constexpr (V == 3) asm volatile(P8(8) P8(9) P8(10) P8(11) "vpdpbusd %%zmm20, %%zmm21, %%zmm0\n vpdpbusd %%zmm20, %%zmm21, %%zmm1\n vpdpbusd %%zmm20, %%zmm21, %%zmm2\n vpdpbusd %%zmm20, %%zmm21, %%zmm3\n" ::: "memory");
    if constexpr (V == 4) asm volatile("vpermb (%0), %%zmm21, %%zmm8\n vpermb 64(%0), %%zmm21, %%zmm9\n vpermb 128(%0), %%zmm21, %%zmm10\n vpermb 192(%0), %%zmm21, %%zmm11\n"
                                       "vpermb 256(%0), %%zmm21, %%zmm12\n vpermb 320(%0), %%zmm21, %%zmm13\n vpermb 384(%0), %%zmm21, %%zmm14\n vpermb 448(%0), %%zmm21, %%zmm15\n" ::"r"(p) : "memory");
  }
}
template <int V> void run(const char* name, double per) {
  const long n = 20000000;
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    loop<V>(n, buf);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  printf("%-44s %.2f G instr/s\n", name, per * n / best / 1e9);
}
int main() {
  run<0>("8 vpermb zmm (regs)", 8); run<4>("8 vpermb zmm (table from memory)", 8);
  run<1>("8 vfmadd231ps {1to16}", 8); run<2>("8 vfmadd231ps regs", 8); run<3>("4 vpermb + 4 vpdpbusd (per vpermb)", 4);
}
