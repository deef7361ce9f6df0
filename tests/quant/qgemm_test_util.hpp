// Shared by the qgemm tests: the spec, descriptor parsing, and running under a forced Highway target.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hwy/targets.h"
#include "tessel/runtime/registry.hpp"

namespace tessel::qgemm::test {

inline const OpSpec& spec() { return *Registry::global().spec("qgemm"); }
inline const Implementation& impl(const char* name) { return *Registry::global().impl("qgemm", name); }

inline Problem parse(const std::string& d) {
  auto p = spec().parse(d);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return *p;
}

// Restores automatic target choice when a test ends, even on failure.
struct ForcedTarget {
  explicit ForcedTarget(int64_t t) { hwy::SetSupportedTargetsForTest(t); }
  ~ForcedTarget() { hwy::SetSupportedTargetsForTest(0); }
};

// The x86 targets the low-bit kernels have code paths for that this CPU runs, best first. Listed
// here rather than taken from hwy::SupportedAndGeneratedTargets(), whose list depends on the
// including file's build flags (cpu_lut.cpp and cpu_idot.cpp opt in to AVX3_DL, other files do not).
inline std::vector<int64_t> x86_targets() {
  std::vector<int64_t> out;
  for (int64_t t : {int64_t(HWY_AVX3_DL), int64_t(HWY_AVX3), int64_t(HWY_AVX2), int64_t(HWY_SSE4)})
    if (hwy::SupportedTargets() & t) out.push_back(t);
  return out;
}

}  // namespace tessel::qgemm::test
