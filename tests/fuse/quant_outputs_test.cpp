// Quantized outputs: the per-row scale is held to its own (f32-tight) tolerance, not to the
// one-step tolerance of the codes, so a kernel that gets the codes right but the scales slightly
// wrong cannot pass verify; and a code may be off by exactly one step (a midpoint that f32 rounding
// put on the other side), whatever the data's RMS, but not by two.
#include <gtest/gtest.h>

#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

// Runs the registered cpu.fused implementation, then scales its per-row scale output by `factor`.
class ScaleSkewed final : public Implementation {
 public:
  ScaleSkewed(std::string op, float factor) : op_(std::move(op)), factor_(factor) {}
  std::string name() const override { return "scale_skewed"; }
  std::string op() const override { return op_; }
  Device device() const override { return Device::cpu; }
  Support supports(const Problem& p) const override { return inner().supports(p); }
  Status run(const Problem& p, const Config& c, std::span<const TensorView> t, const RunContext& ctx) const override {
    Status st = inner().run(p, c, t, ctx);
    const TensorView& scale = t.back();  // q, then scale: the last tensor
    float* s = scale.ptr<float>();
    for (int64_t i = 0; i < scale.numel(); ++i) s[i] *= factor_;
    return st;
  }

 private:
  const Implementation& inner() const { return *Registry::global().impl(op_, "cpu.fused"); }
  std::string op_;
  float factor_;
};

VerifyResult check(const std::string& desc, float factor) {
  const Registry& reg = Registry::global();
  auto p = reg.parse(desc);
  EXPECT_TRUE(p.ok()) << desc;
  const std::string op = desc.substr(0, desc.find(' '));
  return verify(*reg.spec(op), ScaleSkewed(op, factor), *p);
}

// Runs cpu.fused, then moves one int8 code of every row by `delta` steps (toward zero when that
// stays in range, so no saturation hides it).
class CodeNudged final : public Implementation {
 public:
  CodeNudged(std::string op, int delta) : op_(std::move(op)), delta_(delta) {}
  std::string name() const override { return "code_nudged"; }
  std::string op() const override { return op_; }
  Device device() const override { return Device::cpu; }
  Support supports(const Problem& p) const override { return inner().supports(p); }
  Status run(const Problem& p, const Config& c, std::span<const TensorView> t, const RunContext& ctx) const override {
    Status st = inner().run(p, c, t, ctx);
    const TensorView& q = t[t.size() - 2];  // q, then scale
    const int64_t rows = q.shape[0], cols = q.shape[q.shape.size() - 1];
    auto* codes = q.ptr<int8_t>();
    for (int64_t r = 0; r < rows; ++r) {
      int8_t& v = codes[r * cols + cols / 2];
      v = int8_t(v >= 0 ? v - delta_ : v + delta_);
      if (v < -127) v = int8_t(-127);
    }
    return st;
  }

 private:
  const Implementation& inner() const { return *Registry::global().impl(op_, "cpu.fused"); }
  std::string op_;
  int delta_;
};

TEST(QuantOutputs, OneStepFlipsPassTwoStepsFail) {
  const Registry& reg = Registry::global();
  for (const char* d : {"rmsnorm_quant rows=9 cols=8200 quant=i8", "rmsnorm_quant rows=7 cols=100 quant=i8"}) {
    auto p = reg.parse(d);
    ASSERT_TRUE(p.ok()) << d;
    EXPECT_EQ(verify(*reg.spec("rmsnorm_quant"), CodeNudged("rmsnorm_quant", 1), *p).verdict, Verdict::passed) << d;
    auto two = verify(*reg.spec("rmsnorm_quant"), CodeNudged("rmsnorm_quant", 2), *p);
    EXPECT_EQ(two.verdict, Verdict::failed) << d;
    EXPECT_EQ(two.failure, FailureKind::wrong_values) << d << ": " << two.reason;
  }
}

TEST(QuantOutputs, ExactScalesPass) {
  for (const char* d : {"rmsnorm_quant rows=33 cols=255", "rmsnorm_quant rows=7 cols=100 quant=i8",
                        "swiglu rows=9 cols=77 quant=e4m3"})
    EXPECT_EQ(check(d, 1.0f).verdict, Verdict::passed) << d;
}

TEST(QuantOutputs, ScalesOffByATenthOfAPercentFail) {
  for (const char* d : {"rmsnorm_quant rows=33 cols=255", "rmsnorm_quant rows=7 cols=100 quant=i8",
                        "swiglu rows=9 cols=77 quant=e4m3"}) {
    auto r = check(d, 1.001f);
    EXPECT_EQ(r.verdict, Verdict::failed) << d;
    EXPECT_EQ(r.failure, FailureKind::wrong_values) << d << ": " << r.reason;
  }
}

}  // namespace
}  // namespace tessel
