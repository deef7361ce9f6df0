// TESSEL_CPU_ISA: holding the CPU kernels' dispatch to an older SIMD target, and the errors for a name
// it does not know or a target the CPU cannot run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "qgemm/qgemm.hpp"
#include "tessel/cpu/isa.hpp"

namespace tessel::cpu {
namespace {

// Sets TESSEL_CPU_ISA for one test and restores the CPU's own targets after it, even on failure.
struct IsaEnv {
  explicit IsaEnv(const char* value) { setenv("TESSEL_CPU_ISA", value, 1); }
  ~IsaEnv() {
    unsetenv("TESSEL_CPU_ISA");
    EXPECT_TRUE(apply_isa_from_env().ok());
  }
};

bool runs(const std::string& best, const char* target) {
  const std::string order[] = {"AVX3_DL", "AVX3", "AVX2", "SSE4"};
  int b = 4, t = 4;
  for (int i = 0; i < 4; ++i) {
    if (best == order[i]) b = i;
    if (target == order[i]) t = i;
  }
  return b <= t;
}

TEST(CpuIsa, AvxTwoHoldsTheKernelsThereAndUnsetRestores) {
  ASSERT_TRUE(apply_isa_from_env().ok());
  const std::string best = simd_target();
  if (!runs(best, "AVX2")) GTEST_SKIP() << "no AVX2 here (" << best << ")";
  {
    IsaEnv env("avx2");
    ASSERT_TRUE(apply_isa_from_env().ok());
    EXPECT_EQ(simd_target(), "AVX2");
    // A kernel's own dispatch follows (cpu.lut is compiled for AVX3_DL too).
    EXPECT_STREQ(qgemm::lut_target_name(), "AVX2");
  }
  EXPECT_EQ(simd_target(), best);
  EXPECT_EQ(std::string(qgemm::lut_target_name()), best);
}

TEST(CpuIsa, EmptyMeansTheBest) {
  ASSERT_TRUE(apply_isa_from_env().ok());
  const std::string best = simd_target();
  IsaEnv env("");
  ASSERT_TRUE(apply_isa_from_env().ok());
  EXPECT_EQ(simd_target(), best);
}

TEST(CpuIsa, UnknownNameIsAnErrorThatListsTheNames) {
  IsaEnv env("avx1024");
  const Status s = apply_isa_from_env();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::invalid_argument);
  for (const char* part : {"TESSEL_CPU_ISA", "avx1024", "avx3_dl", "avx2", "sse4"})
    EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
}

// A target above the CPU's best cannot be run: an error naming the best, not a silent fallback.
TEST(CpuIsa, ATargetTheCpuLacksIsAnError) {
  ASSERT_TRUE(apply_isa_from_env().ok());
  const std::string best = simd_target();
  if (runs(best, "AVX3_DL")) GTEST_SKIP() << "this CPU runs every target tessel names (" << best << ")";
  IsaEnv env("avx3_dl");
  const Status s = apply_isa_from_env();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::unsupported);
  EXPECT_NE(s.message().find(best), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tessel::cpu
