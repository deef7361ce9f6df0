// cpu.bf16dot's bf16 C (src/ops/gemm/cpu_bf16.cpp): with nothing fused it rounds its f32 block with
// vcvtneps2bf16 rather than cpu_epilogue's integer rounding. The bits must be core's (round to
// nearest even): inputs here make every f32 sum exact and put it on, just below and just above a
// bf16 rounding tie, in full 16-column vectors and a masked tail, so each output's bits are known.
// (Random inputs go through verify in ops_verify_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
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

}  // namespace
}  // namespace tessel
