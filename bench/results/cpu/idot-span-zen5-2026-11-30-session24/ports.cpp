// Session 24 (Zen 5 EPYC VM), one thread: what a vpdpbusd loop can issue beside 16 independent vpdpbusd a
// pass. Loads and 32-bit broadcasts from L1 are free (8.2 G/s either way); embedded {1to16} broadcasts halve it.
// Build: g++ -O2 -std=c++20 ports.cpp -o /tmp/ports && /tmp/ports (results: ports-stores.txt)
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
alignas(64) static uint8_t buf[1 << 14];
#define DP16(a,b,c,d) \
 "vpdpbusd %%zmm" #a ", %%zmm20, %%zmm0\n vpdpbusd %%zmm" #b ", %%zmm20, %%zmm1\n vpdpbusd %%zmm" #c ", %%zmm20, %%zmm2\n vpdpbusd %%zmm" #d ", %%zmm20, %%zmm3\n" \
 "vpdpbusd %%zmm" #a ", %%zmm21, %%zmm4\n vpdpbusd %%zmm" #b ", %%zmm21, %%zmm5\n vpdpbusd %%zmm" #c ", %%zmm21, %%zmm6\n vpdpbusd %%zmm" #d ", %%zmm21, %%zmm7\n" \
 "vpdpbusd %%zmm" #a ", %%zmm22, %%zmm8\n vpdpbusd %%zmm" #b ", %%zmm22, %%zmm9\n vpdpbusd %%zmm" #c ", %%zmm22, %%zmm10\n vpdpbusd %%zmm" #d ", %%zmm22, %%zmm11\n" \
 "vpdpbusd %%zmm" #a ", %%zmm23, %%zmm12\n vpdpbusd %%zmm" #b ", %%zmm23, %%zmm13\n vpdpbusd %%zmm" #c ", %%zmm23, %%zmm14\n vpdpbusd %%zmm" #d ", %%zmm23, %%zmm15\n"
template <int V> __attribute__((noinline, target("avx512f,avx512vnni"))) void loop(long n, const uint8_t* p) {
  for (long i = 0; i < n; ++i) {
    if constexpr (V == 0) asm volatile(DP16(24,25,26,27) ::: "memory");
    if constexpr (V == 1) asm volatile("vmovdqa64 (%0), %%zmm20\n vmovdqa64 64(%0), %%zmm21\n vmovdqa64 128(%0), %%zmm22\n vmovdqa64 192(%0), %%zmm23\n" DP16(24,25,26,27) :: "r"(p) : "memory");
    if constexpr (V == 2) asm volatile("vpbroadcastd (%0), %%zmm24\n vpbroadcastd 4096(%0), %%zmm25\n vpbroadcastd 8192(%0), %%zmm26\n vpbroadcastd 12288(%0), %%zmm27\n" DP16(24,25,26,27) :: "r"(p) : "memory");
    if constexpr (V == 3) asm volatile("vpbroadcastd (%0), %%zmm24\n vpbroadcastd 4096(%0), %%zmm25\n vpbroadcastd 8192(%0), %%zmm26\n vpbroadcastd 12288(%0), %%zmm27\n"
                                      "vmovdqa64 (%0), %%zmm20\n vmovdqa64 64(%0), %%zmm21\n vmovdqa64 128(%0), %%zmm22\n vmovdqa64 192(%0), %%zmm23\n" DP16(24,25,26,27) :: "r"(p) : "memory");
    // broadcast from a GPR (mov + vpbroadcastd r32)
    if constexpr (V == 4) asm volatile("movl (%0), %%eax\n vpbroadcastd %%eax, %%zmm24\n movl 4096(%0), %%eax\n vpbroadcastd %%eax, %%zmm25\n movl 8192(%0), %%eax\n vpbroadcastd %%eax, %%zmm26\n movl 12288(%0), %%eax\n vpbroadcastd %%eax, %%zmm27\n"
                                      "vmovdqa64 (%0), %%zmm20\n vmovdqa64 64(%0), %%zmm21\n vmovdqa64 128(%0), %%zmm22\n vmovdqa64 192(%0), %%zmm23\n" DP16(24,25,26,27) :: "r"(p) : "memory", "eax");
    // embedded broadcast
    if constexpr (V == 5) asm volatile("vmovdqa64 (%0), %%zmm20\n vmovdqa64 64(%0), %%zmm21\n vmovdqa64 128(%0), %%zmm22\n vmovdqa64 192(%0), %%zmm23\n"
      "vpdpbusd (%0)%{1to16%}, %%zmm20, %%zmm0\n vpdpbusd 4096(%0)%{1to16%}, %%zmm20, %%zmm1\n vpdpbusd 8192(%0)%{1to16%}, %%zmm20, %%zmm2\n vpdpbusd 12288(%0)%{1to16%}, %%zmm20, %%zmm3\n"
      "vpdpbusd (%0)%{1to16%}, %%zmm21, %%zmm4\n vpdpbusd 4096(%0)%{1to16%}, %%zmm21, %%zmm5\n vpdpbusd 8192(%0)%{1to16%}, %%zmm21, %%zmm6\n vpdpbusd 12288(%0)%{1to16%}, %%zmm21, %%zmm7\n"
      "vpdpbusd (%0)%{1to16%}, %%zmm22, %%zmm8\n vpdpbusd 4096(%0)%{1to16%}, %%zmm22, %%zmm9\n vpdpbusd 8192(%0)%{1to16%}, %%zmm22, %%zmm10\n vpdpbusd 12288(%0)%{1to16%}, %%zmm22, %%zmm11\n"
      "vpdpbusd (%0)%{1to16%}, %%zmm23, %%zmm12\n vpdpbusd 4096(%0)%{1to16%}, %%zmm23, %%zmm13\n vpdpbusd 8192(%0)%{1to16%}, %%zmm23, %%zmm14\n vpdpbusd 12288(%0)%{1to16%}, %%zmm23, %%zmm15\n" :: "r"(p) : "memory");
    // 2 rows x 8 vectors: 2 broadcasts + 8 loads per 16
    if constexpr (V == 6) asm volatile("vpbroadcastd (%0), %%zmm24\n vpbroadcastd 4096(%0), %%zmm25\n"
      "vmovdqa64 (%0), %%zmm20\n vmovdqa64 64(%0), %%zmm21\n vmovdqa64 128(%0), %%zmm22\n vmovdqa64 192(%0), %%zmm23\n"
      "vpdpbusd %%zmm24, %%zmm20, %%zmm0\n vpdpbusd %%zmm25, %%zmm20, %%zmm1\n vpdpbusd %%zmm24, %%zmm21, %%zmm2\n vpdpbusd %%zmm25, %%zmm21, %%zmm3\n"
      "vpdpbusd %%zmm24, %%zmm22, %%zmm4\n vpdpbusd %%zmm25, %%zmm22, %%zmm5\n vpdpbusd %%zmm24, %%zmm23, %%zmm6\n vpdpbusd %%zmm25, %%zmm23, %%zmm7\n"
      "vmovdqa64 256(%0), %%zmm20\n vmovdqa64 320(%0), %%zmm21\n vmovdqa64 384(%0), %%zmm22\n vmovdqa64 448(%0), %%zmm23\n"
      "vpdpbusd %%zmm24, %%zmm20, %%zmm8\n vpdpbusd %%zmm25, %%zmm20, %%zmm9\n vpdpbusd %%zmm24, %%zmm21, %%zmm10\n vpdpbusd %%zmm25, %%zmm21, %%zmm11\n"
      "vpdpbusd %%zmm24, %%zmm22, %%zmm12\n vpdpbusd %%zmm25, %%zmm22, %%zmm13\n vpdpbusd %%zmm24, %%zmm23, %%zmm14\n vpdpbusd %%zmm25, %%zmm23, %%zmm15\n" :: "r"(p) : "memory");
  }
}
template <int V> void run(const char* name) {
  const long n = 20000000;
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    loop<V>(n, buf);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  printf("%-34s %.2f G vpdpbusd/s\n", name, 16.0 * n / best / 1e9);
}
int main() {
  for (int k = 0; k < 2; ++k) {
  run<0>("16 dp, regs only");
  run<1>("16 dp + 4 loads");
  run<2>("16 dp + 4 bcast(mem)");
  run<3>("16 dp + 4 bcast(mem) + 4 loads");
  run<4>("16 dp + 4 mov+bcast(gpr) + 4 loads");
  run<5>("16 dp emb-bcast + 4 loads");
  run<6>("16 dp 2x8: 2 bcast + 8 loads");
  }
}
