// cpu.bf16dot's bf16 C (src/ops/gemm/cpu_bf16.cpp): with nothing fused it rounds its f32 block with
// vcvtneps2bf16 rather than cpu_epilogue's integer rounding. The bits must be core's (round to
// nearest even): inputs here make every f32 sum exact and put it on, just below and just above a
// bf16 rounding tie, in full 16-column vectors and a masked tail, so each output's bits are known.
// (Random inputs go through verify in ops_verify_test.cpp.) And the oneDNN baseline's bf16: where it
// says it runs, it runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tessel/core/dtype.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

TEST(GemmBf16Dot, PlainBf16OutputRoundsAsCore) {
  const Implementation* impl = Registry::global().impl("gemm", "cpu.bf16dot");
  ASSERT_NE(impl, nullptr);
  // m = 20 rows, so that the call packs (few rows stream B through cpu.simd instead); n = 40: two whole
  // 16-column vectors and a masked tail of 8; k = 2: C[i][j] = A[i][0] * B[0][j] + A[i][1] * B[1][j].
  const int64_t m = 20, n = 40, k = 2;
  const auto parsed = Registry::global().spec("gemm")->parse("gemm m=20 n=40 k=2 dtype=bf16 out=bf16");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const Problem p = *parsed;
  if (const Support sup = impl->supports(p); !sup.ok) GTEST_SKIP() << sup.reason;
  // Row i adds t_i to s_j (B[0][j] = s_j, B[1][j] = 1): bf16 keeps 8 significant bits, so t = 2^-8 is
  // half a unit at 1 (a tie, to even: 1), 3 * 2^-8 a tie to 1 + 2^-6, 2^-9 below half, 2^-8 + 2^-12
  // above it; and their negatives, and the same on 2 (s_j alternating 1 and -2).
  const float u = std::ldexp(1.0f, -8);
  const float ts[] = {u, 3 * u, u / 2, u + u / 16, -u, -3 * u, -u / 2, -u - u / 16, 0.0f, 2 * u};
  std::vector<uint16_t> a(size_t(m * k)), b(size_t(k * n)), c(size_t(m * n), 0xffff);
  for (int64_t i = 0; i < m; ++i) {
    a[size_t(i * k)] = f32_to_bf16_bits(1.0f);
    a[size_t(i * k + 1)] = f32_to_bf16_bits(ts[i % 10]);
  }
  for (int64_t j = 0; j < n; ++j) {
    b[size_t(j)] = f32_to_bf16_bits(j % 2 ? -2.0f : 1.0f);
    b[size_t(n + j)] = f32_to_bf16_bits(1.0f);
  }
  std::vector<TensorView> views = {
      {a.data(), DType::bf16, {m, k}, contiguous_strides({m, k})},
      {b.data(), DType::bf16, {k, n}, contiguous_strides({k, n})},
      {c.data(), DType::bf16, {m, n}, contiguous_strides({m, n})},
  };
  ASSERT_TRUE(impl->run(p, {}, views, RunContext{nullptr, 1}).ok());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const float exact = (j % 2 ? -2.0f : 1.0f) + ts[i % 10];  // exact in f32
      EXPECT_EQ(c[size_t(i * n + j)], f32_to_bf16_bits(exact)) << "C[" << i << ", " << j << "] = " << exact;
    }
}

// oneDNN (Debian's 2.6) creates no bf16 matmul on CPUs without AVX-512: its supports() must say so
// (as missing hardware), and where it says yes a run must succeed and give the exact product. Before
// session 30 it said yes everywhere and every bf16 run failed on an AVX2-only CPU.
TEST(OneDnnBaseline, Bf16SupportAgreesWithItsRuns) {
  const Implementation* impl = Registry::global().impl("gemm", "onednn");
  if (impl == nullptr) GTEST_SKIP() << "built without oneDNN";
  for (const char* d : {"gemm m=3 n=5 k=4 dtype=bf16", "gemm m=3 n=5 k=4 dtype=bf16 out=bf16"}) {
    const auto parsed = Registry::global().spec("gemm")->parse(d);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    const Problem p = *parsed;
    const Support sup = impl->supports(p);
    if (!sup.ok) {
      EXPECT_TRUE(sup.missing_hardware) << d << ": " << sup.reason;
      EXPECT_NE(sup.reason.find("bf16"), std::string::npos) << sup.reason;
      continue;
    }
    const bool bf16_out = p.str("out") == "bf16";
    // A = all ones, B[k][j] = j + k: C[i][j] = 4j + 6, exact in bf16 for these sizes.
    std::vector<uint16_t> a(12, f32_to_bf16_bits(1.0f)), b(20), c16(15, 0xffff);
    std::vector<float> c32(15, NAN);
    for (int kk = 0; kk < 4; ++kk)
      for (int j = 0; j < 5; ++j) b[size_t(kk * 5 + j)] = f32_to_bf16_bits(float(j + kk));
    std::vector<TensorView> views = {
        {a.data(), DType::bf16, {3, 4}, contiguous_strides({3, 4})},
        {b.data(), DType::bf16, {4, 5}, contiguous_strides({4, 5})},
        bf16_out ? TensorView{c16.data(), DType::bf16, {3, 5}, contiguous_strides({3, 5})}
                 : TensorView{c32.data(), DType::f32, {3, 5}, contiguous_strides({3, 5})},
    };
    const Status st = impl->run(p, {}, views, RunContext{nullptr, 1});
    ASSERT_TRUE(st.ok()) << d << ": supports() said yes, the run said " << st.message();
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 5; ++j) {
        const float want = float(4 * j + 6);
        EXPECT_EQ(bf16_out ? bf16_bits_to_f32(c16[size_t(i * 5 + j)]) : c32[size_t(i * 5 + j)], want) << d << " C[" << i << ", " << j << "]";
      }
  }
}

}  // namespace
}  // namespace tessel
