// Shared helpers of the fusion tests: the ISAs to run every test on, and small conversions.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tessel/core/dtype.hpp"
#include "tessel/fuse/fuse.hpp"

namespace tessel::fuse::test {

// Every CPU entry point of the runner; a test instance for an ISA this machine lacks skips itself.
inline const std::vector<cpu::Isa>& all_isas() {
  static const std::vector<cpu::Isa> v = {cpu::Isa::avx512bf16, cpu::Isa::avx512, cpu::Isa::avx2, cpu::Isa::baseline};
  return v;
}

class PerIsa : public ::testing::TestWithParam<cpu::Isa> {
 protected:
  void SetUp() override {
    if (cpu::resolve_isa(GetParam()) != GetParam()) GTEST_SKIP() << "this CPU lacks " << cpu::isa_name(GetParam());
  }
  cpu::Options opts(int threads = 0) const {
    cpu::Options o;
    o.isa = GetParam();
    o.threads = threads;
    return o;
  }
};

inline std::string isa_test_name(const ::testing::TestParamInfo<cpu::Isa>& i) { return cpu::isa_name(i.param); }

inline float bf16_to_f32(uint16_t h) { return bf16_bits_to_f32(h); }
inline uint16_t f32_to_bf16(float x) { return f32_to_bf16_bits(x); }

// A deterministic pseudo-random sequence (splitmix64), so failures reproduce.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) * 0x1p-53; }
};

}  // namespace tessel::fuse::test
