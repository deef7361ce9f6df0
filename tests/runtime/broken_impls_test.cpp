// Deliberately broken gemm implementations that verify must reject, each for its named reason,
// and a correct one that must pass: the harness is only trusted if both hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <random>

#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

enum class Bug { none, skips_tail, writes_out_of_bounds, returns_previous_result, modifies_input,
                 wrong_for_negative_inputs, nondeterministic, narrow_precision };

// A plain f32 gemm (b=kn, no epilogue) with one optional, deliberate bug.
class NaiveGemm final : public Implementation {
 public:
  explicit NaiveGemm(Bug bug) : bug_(bug) {}
  std::string name() const override { return "naive"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cpu; }
  Support supports(const Problem& p) const override {
    if (p.str("dtype") != "f32" || p.str("b") != "kn" || p.flag("bias") || p.flag("residual") || p.str("act") != "none")
      return Support::no("plain f32 kn only");
    return Support::yes();
  }
  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext&) const override {
    const int64_t m = p.i64("m"), n = p.i64("n"), k = p.i64("k");
    float* a = t[0].ptr<float>();
    const float* b = t[1].ptr<float>();
    float* c = t[2].ptr<float>();
    std::vector<int64_t> order(static_cast<size_t>(k));
    std::iota(order.begin(), order.end(), 0);
    if (bug_ == Bug::nondeterministic) std::shuffle(order.begin(), order.end(), std::mt19937(unsigned(calls_++)));
    const int64_t m_end = bug_ == Bug::skips_tail ? m / 16 * 16 : m;
    std::vector<float> result(size_t(m * n));
    for (int64_t i = 0; i < m_end; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float acc = 0;
        for (int64_t kk : order) {
          float av = a[i * k + kk], bv = b[kk * n + j];
          if (bug_ == Bug::wrong_for_negative_inputs) av = std::fabs(av);
          if (bug_ == Bug::narrow_precision) {
            av = round_bf16(av);
            bv = round_bf16(bv);
          }
          acc += av * bv;
        }
        result[size_t(i * n + j)] = acc;
      }
    if (bug_ == Bug::returns_previous_result) {
      const std::vector<float> out = previous_.empty() ? result : previous_;
      previous_ = result;
      std::copy(out.begin(), out.end(), c);
      return {};
    }
    for (int64_t i = 0; i < m_end; ++i) std::copy_n(&result[size_t(i * n)], n, c + i * n);
    if (bug_ == Bug::writes_out_of_bounds) c[m * n] = 0.0f;
    if (bug_ == Bug::modifies_input) a[0] += 1.0f;
    return {};
  }

 private:
  static float round_bf16(float x) { return bf16_bits_to_f32(f32_to_bf16_bits(x)); }
  Bug bug_;
  mutable std::vector<float> previous_;
  mutable std::atomic<int> calls_{0};
};

const OpSpec& gemm_spec() { return *Registry::global().spec("gemm"); }

VerifyResult check(Bug bug, const std::string& desc = "gemm m=33 n=65 k=127") {
  auto p = gemm_spec().parse(desc);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return verify(gemm_spec(), NaiveGemm(bug), *p);
}

TEST(BrokenImpls, CorrectImplementationPasses) {
  for (const char* d : {"gemm m=33 n=65 k=127", "gemm m=1 n=1 k=1", "gemm m=16 n=3 k=1000"}) {
    auto r = check(Bug::none, d);
    EXPECT_EQ(r.verdict, Verdict::passed) << d << ": " << r.reason;
    EXPECT_EQ(r.trials, 12);  // 4 distributions x (A, B, B again)
  }
}

struct Case {
  Bug bug;
  FailureKind expected;
  const char* name;
};

class RejectsBroken : public ::testing::TestWithParam<Case> {};

TEST_P(RejectsBroken, WithNamedReason) {
  auto r = check(GetParam().bug);
  EXPECT_EQ(r.verdict, Verdict::failed) << GetParam().name;
  EXPECT_EQ(r.failure, GetParam().expected) << GetParam().name << ": " << r.reason;
  EXPECT_NE(r.reason.find(std::string(failure_name(GetParam().expected))), std::string::npos) << r.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Harness, RejectsBroken,
    ::testing::Values(Case{Bug::skips_tail, FailureKind::unwritten_output, "skips_tail"},
                      Case{Bug::writes_out_of_bounds, FailureKind::out_of_bounds, "writes_out_of_bounds"},
                      Case{Bug::returns_previous_result, FailureKind::stale_result, "returns_previous_result"},
                      Case{Bug::modifies_input, FailureKind::modified_input, "modifies_input"},
                      Case{Bug::wrong_for_negative_inputs, FailureKind::wrong_values, "wrong_for_negative_inputs"},
                      Case{Bug::nondeterministic, FailureKind::nondeterministic, "nondeterministic"},
                      Case{Bug::narrow_precision, FailureKind::wrong_values, "narrow_precision"}),
    [](const auto& tp) { return std::string(tp.param.name); });

// Bench checks every timed call too: a broken kernel cannot earn a time.
TEST(BrokenImpls, BenchRejectsWhatVerifyRejects) {
  auto p = gemm_spec().parse("gemm m=33 n=65 k=127");
  ASSERT_TRUE(p.ok());
  BenchOptions opt;
  opt.min_seconds = 0.001;
  opt.max_seconds = 0.2;
  for (Bug bug : {Bug::skips_tail, Bug::returns_previous_result, Bug::writes_out_of_bounds, Bug::wrong_for_negative_inputs}) {
    NaiveGemm impl(bug);
    auto rows = bench(gemm_spec(), {&impl}, *p, nullptr, opt);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].verdict, Verdict::failed) << int(bug);
  }
  NaiveGemm good(Bug::none);
  auto rows = bench(gemm_spec(), {&good}, *p, nullptr, opt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, Verdict::passed) << rows[0].reason;
  EXPECT_GE(rows[0].n, opt.min_reps);
  EXPECT_GT(rows[0].median_s, 0);
}

}  // namespace
}  // namespace tessel
