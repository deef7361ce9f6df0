// Every registered CPU implementation passes verify across its op's whole sample matrix. The
// reference runs on every sample anyway (it is what every candidate is compared with); as a
// candidate of its own it is checked on the first sample only (guards, determinism), which keeps
// the double-precision references from dominating CI time under ASan.
#include <gtest/gtest.h>

#include <cctype>

#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

struct Target {
  std::string op, impl;
};
void PrintTo(const Target& t, std::ostream* os) { *os << t.op << "/" << t.impl; }

std::vector<Target> cpu_targets() {
  std::vector<Target> t;
  for (const OpSpec* spec : Registry::global().specs())
    for (const Implementation* impl : Registry::global().impls(spec->name()))
      if (impl->device() == Device::cpu) t.push_back({spec->name(), impl->name()});
  return t;
}

class OpsVerify : public ::testing::TestWithParam<Target> {};

TEST_P(OpsVerify, PassesEverySample) {
  const Registry& reg = Registry::global();
  const OpSpec& spec = *reg.spec(GetParam().op);
  const Implementation& impl = *reg.impl(GetParam().op, GetParam().impl);
  int ran = 0;
  bool hardware_missing = false;
  std::vector<std::string> samples = spec.samples();
  if (impl.is_reference()) samples.resize(1);
  for (const auto& d : samples) {
    auto p = reg.parse(d);
    ASSERT_TRUE(p.ok()) << d;
    if (Support sup = impl.supports(*p); !sup.ok && sup.missing_hardware) {
      hardware_missing = true;
      continue;
    }
    auto r = verify(spec, impl, *p);
    if (r.verdict == Verdict::unsupported) {
      EXPECT_FALSE(r.reason.empty()) << "unsupported without a reason: " << d;
      continue;
    }
    EXPECT_EQ(r.verdict, Verdict::passed) << d << ": " << r.reason;
    ++ran;
  }
  // An implementation for an instruction set this machine lacks (AMX, AVX512-BF16) cannot run here.
  if (ran == 0 && hardware_missing) GTEST_SKIP() << impl.name() << ": this machine lacks its hardware";
  EXPECT_GT(ran, 0) << "supports none of the samples";
}

INSTANTIATE_TEST_SUITE_P(Registered, OpsVerify, ::testing::ValuesIn(cpu_targets()), [](const auto& tp) {
  std::string n = tp.param.op + "_" + tp.param.impl;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

TEST(Registry, ReferenceIsLastAndEveryOpHasOne) {
  for (const OpSpec* spec : Registry::global().specs()) {
    auto impls = Registry::global().impls(spec->name());
    ASSERT_FALSE(impls.empty());
    EXPECT_TRUE(impls.back()->is_reference()) << spec->name();
    EXPECT_FALSE(spec->samples().empty());
  }
}

}  // namespace
}  // namespace tessel
