#include <chrono>
#include <cstdio>
#include <cstdint>
#include <algorithm>
alignas(64) static float buf[1 << 12];
#define DP16 \
 "vpdpbusd %%zmm24, %%zmm20, %%zmm0\n vpdpbusd %%zmm25, %%zmm20, %%zmm1\n vpdpbusd %%zmm26, %%zmm20, %%zmm2\n vpdpbusd %%zmm27, %%zmm20, %%zmm3\n" \
 "vpdpbusd %%zmm24, %%zmm21, %%zmm4\n vpdpbusd %%zmm25, %%zmm21, %%zmm5\n vpdpbusd %%zmm26, %%zmm21, %%zmm6\n vpdpbusd %%zmm27, %%zmm21, %%zmm7\n" \
 "vpdpbusd %%zmm24, %%zmm22, %%zmm8\n vpdpbusd %%zmm25, %%zmm22, %%zmm9\n vpdpbusd %%zmm26, %%zmm22, %%zmm10\n vpdpbusd %%zmm27, %%zmm22, %%zmm11\n" \
 "vpdpbusd %%zmm24, %%zmm23, %%zmm12\n vpdpbusd %%zmm25, %%zmm23, %%zmm13\n vpdpbusd %%zmm26, %%zmm23, %%zmm14\n vpdpbusd %%zmm27, %%zmm23, %%zmm15\n"
#define ST8(r) "vmovaps %%" r "28, (%0)\n vmovaps %%" r "29, 64(%0)\n vmovaps %%" r "30, 128(%0)\n vmovaps %%" r "31, 192(%0)\n vmovaps %%" r "28, 256(%0)\n vmovaps %%" r "29, 320(%0)\n vmovaps %%" r "30, 384(%0)\n vmovaps %%" r "31, 448(%0)\n"
template <int V> __attribute__((noinline, target("avx512f,avx512vnni"))) void loop(long n, float* p) {
  // Registers hold normal values: left uninitialized, garbage (denormals) made FP ops look slow.
  static const float one = 1.0f;
  asm volatile("vbroadcastss %0, %%zmm28\n vbroadcastss %0, %%zmm29\n vbroadcastss %0, %%zmm30\n vbroadcastss %0, %%zmm31\n"
               "vpxord %%zmm20, %%zmm20, %%zmm20\n vpxord %%zmm21, %%zmm21, %%zmm21\n vpxord %%zmm22, %%zmm22, %%zmm22\n vpxord %%zmm23, %%zmm23, %%zmm23\n"
               "vpxord %%zmm24, %%zmm24, %%zmm24\n vpxord %%zmm25, %%zmm25, %%zmm25\n vpxord %%zmm26, %%zmm26, %%zmm26\n vpxord %%zmm27, %%zmm27, %%zmm27\n" :: "m"(one) : "memory");
  for (int j = 0; j < (1 << 12); ++j) p[j] = 1.0f;
  for (long i = 0; i < n; ++i) {
    if constexpr (V == 0) asm volatile(ST8("zmm") ::"r"(p) : "memory");
    if constexpr (V == 1) asm volatile(ST8("ymm") ::"r"(p) : "memory");
    if constexpr (V == 2) asm volatile(DP16 ::: "memory");
    if constexpr (V == 3) asm volatile(DP16 ST8("zmm") ::"r"(p) : "memory");
    if constexpr (V == 4) asm volatile(DP16 "vcvtdq2ps %%zmm28, %%zmm29\n vcvtdq2ps %%zmm28, %%zmm30\n vcvtdq2ps %%zmm28, %%zmm31\n vcvtdq2ps %%zmm28, %%zmm29\n vcvtdq2ps %%zmm28, %%zmm30\n vcvtdq2ps %%zmm28, %%zmm31\n vcvtdq2ps %%zmm28, %%zmm29\n vcvtdq2ps %%zmm28, %%zmm30\n" ::: "memory");
    if constexpr (V == 5) asm volatile(DP16 "vfmadd213ps (%0), %%zmm28, %%zmm29\n vfmadd213ps 64(%0), %%zmm28, %%zmm30\n vfmadd213ps 128(%0), %%zmm28, %%zmm31\n vfmadd213ps 192(%0), %%zmm28, %%zmm29\n vfmadd213ps 256(%0), %%zmm28, %%zmm30\n vfmadd213ps 320(%0), %%zmm28, %%zmm31\n vfmadd213ps 384(%0), %%zmm28, %%zmm29\n vfmadd213ps 448(%0), %%zmm28, %%zmm30\n" ::"r"(p) : "memory");
    if constexpr (V == 7) asm volatile(DP16 ST8("ymm") ::"r"(p) : "memory");
    if constexpr (V == 8) asm volatile(DP16 "vmovaps %%zmm28, (%0)\n vmovaps %%zmm29, 64(%0)\n vmovaps %%zmm30, 128(%0)\n vmovaps %%zmm31, 192(%0)\n" ::"r"(p) : "memory");
    if constexpr (V == 6) asm volatile(DP16 "vpsubd %%zmm28, %%zmm29, %%zmm29\n vpsubd %%zmm28, %%zmm30, %%zmm30\n vpsubd %%zmm28, %%zmm31, %%zmm31\n vpsubd %%zmm28, %%zmm29, %%zmm29\n vpsubd %%zmm28, %%zmm30, %%zmm30\n vpsubd %%zmm28, %%zmm31, %%zmm31\n vpsubd %%zmm28, %%zmm29, %%zmm29\n vpsubd %%zmm28, %%zmm30, %%zmm30\n" ::: "memory");
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
  printf("%-40s %.2f G iter/s  (%.2f G units/s)\n", name, n / best / 1e9, per * n / best / 1e9);
}
int main() {
  run<0>("8 zmm stores", 8); run<1>("8 ymm stores", 8); run<2>("16 dp", 16);
  run<3>("16 dp + 8 zmm stores", 16); run<4>("16 dp + 8 cvtdq2ps", 16); run<5>("16 dp + 8 fma(mem)", 16); run<6>("16 dp + 8 vpsubd", 16); run<7>("16 dp + 8 ymm stores", 16); run<8>("16 dp + 4 zmm stores", 16);
}
