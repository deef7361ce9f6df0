// Session 26 (Zen 5 EPYC VM), one thread: throughput of single AVX-512 instructions (8 independent chains an
// iteration). Build: g++ -O2 -std=c++20 ops.cpp -o /tmp/ops && /tmp/ops (results: ops.txt).
#include <chrono>
#include <cstdio>
#include <algorithm>
#define R8(op) op("0") op("1") op("2") op("3") op("4") op("5") op("6") op("7")
#define FMA(d) "vfmadd231ps %%zmm20, %%zmm21, %%zmm" d "\n"
#define SCALEF(d) "vscalefps %%zmm20, %%zmm21, %%zmm" d "\n"
#define RCP(d) "vrcp14ps %%zmm2" d ", %%zmm" d "\n"
#define CVTBF(d) "vcvtneps2bf16 %%zmm2" d ", %%ymm" d "\n"
#define ZXWD(d) "vpmovzxwd %%ymm2" d ", %%zmm" d "\n"
#define FPCLASS(d) "vfpclassps $0x3e, %%zmm2" d ", %%k" d "\n"
#define CMP(d) "vcmpps $1, %%zmm20, %%zmm2" d ", %%k" d "\n"
#define MOVDB(d) "vpmovdb %%zmm2" d ", %%xmm" d "\n"
#define CVTPS2DQ(d) "vcvtps2dq %%zmm2" d ", %%zmm" d "\n"
#define PADDD(d) "vpaddd %%zmm20, %%zmm2" d ", %%zmm" d "\n"
#define SLLD(d) "vpslld $16, %%zmm2" d ", %%zmm" d "\n"
#define MAXPS(d) "vmaxps %%zmm20, %%zmm2" d ", %%zmm" d "\n"
#define BLENDM(d) "vblendmps %%zmm20, %%zmm2" d ", %%zmm" d "%{%%k1%}\n"
#define T __attribute__((noinline, target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
template <int V> T void loop(long n) {
  for (long i = 0; i < n; ++i) {
    if constexpr (V == 0) asm volatile(R8(FMA) ::: "memory");
    if constexpr (V == 1) asm volatile(R8(SCALEF) ::: "memory");
    if constexpr (V == 2) asm volatile(R8(RCP) ::: "memory");
    if constexpr (V == 3) asm volatile(R8(CVTBF) ::: "memory");
    if constexpr (V == 4) asm volatile(R8(ZXWD) ::: "memory");
    if constexpr (V == 5) asm volatile(R8(FPCLASS) ::: "memory");
    if constexpr (V == 6) asm volatile(R8(CMP) ::: "memory");
    if constexpr (V == 7) asm volatile(R8(MOVDB) ::: "memory");
    if constexpr (V == 8) asm volatile(R8(CVTPS2DQ) ::: "memory");
    if constexpr (V == 9) asm volatile(R8(PADDD) ::: "memory");
    if constexpr (V == 10) asm volatile(R8(SLLD) ::: "memory");
    if constexpr (V == 11) asm volatile(R8(MAXPS) ::: "memory");
    if constexpr (V == 12) asm volatile(R8(BLENDM) ::: "memory");
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
  printf("%-16s %.2f G instr/s  (%.2f a cycle at 4.1 GHz)\n", name, 8.0 * n / best / 1e9, 8.0 * n / best / 1e9 / 4.1);
}
int main() {
  run<0>("vfmadd231ps"); run<1>("vscalefps"); run<2>("vrcp14ps"); run<3>("vcvtneps2bf16"); run<4>("vpmovzxwd");
  run<5>("vfpclassps"); run<6>("vcmpps->k"); run<7>("vpmovdb"); run<8>("vcvtps2dq"); run<9>("vpaddd");
  run<10>("vpslld"); run<11>("vmaxps"); run<12>("vblendmps");
}
