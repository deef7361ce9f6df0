// TESSEL_CPU_ISA: limits the CPU kernels' runtime dispatch (Highway's) to an older SIMD target.
#include "tessel/cpu/isa.hpp"

#include <cstdint>
#include <cstdlib>

#include "hwy/targets.h"

namespace tessel::cpu {

namespace {

struct Named {
  const char* name;
  int64_t target;
};
constexpr Named kTargets[] = {{"avx3_dl", HWY_AVX3_DL}, {"avx3", HWY_AVX3}, {"avx2", HWY_AVX2}, {"sse4", HWY_SSE4}};

}  // namespace

Status apply_isa_from_env() {
  const char* v = std::getenv("TESSEL_CPU_ISA");
  const std::string want = v ? v : "";
  hwy::SetSupportedTargetsForTest(0);  // the CPU's own targets, to check against
  if (want.empty()) return {};
  for (const Named& t : kTargets) {
    if (want != t.name) continue;
    const int64_t have = hwy::SupportedTargets();
    if ((have & t.target) == 0)
      return Status::unsupported("TESSEL_CPU_ISA", want, "this CPU cannot run that target; its best is " + simd_target());
    // Highway numbers better targets with lower bits: keep this target and every one below it, so
    // that code compiled without this target (AVX3_DL is opt-in per file) takes the next one down.
    hwy::SetSupportedTargetsForTest(have & ~(t.target - 1));
    return {};
  }
  return Status::invalid("TESSEL_CPU_ISA", want, "expected avx3_dl, avx3, avx2 or sse4 (or unset: the CPU's best)");
}

std::string isa_env_prefix() {
  const char* v = std::getenv("TESSEL_CPU_ISA");
  return v && *v ? std::string("TESSEL_CPU_ISA=") + v + " " : "";
}

std::string simd_target() {
  const int64_t have = hwy::SupportedTargets();
  return have == 0 ? "none" : hwy::TargetName(have & -have);
}

}  // namespace tessel::cpu
