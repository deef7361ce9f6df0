// verify: checks one implementation on one problem in a way no kernel can fool (DESIGN.md, principle 5).
#include <algorithm>
#include <optional>
#include <random>
#include <stdexcept>

#include "harness_memory.hpp"
#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/tuning_db.hpp"

namespace tessel {

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::passed: return "PASSED";
    case Verdict::failed: return "FAILED";
    case Verdict::skipped: return "SKIPPED";
    case Verdict::unsupported: return "UNSUPPORTED";
  }
  return "?";
}

std::string_view failure_name(FailureKind k) {
  switch (k) {
    case FailureKind::none: return "none";
    case FailureKind::run_error: return "run error";
    case FailureKind::unwritten_output: return "unwritten output";
    case FailureKind::out_of_bounds: return "out-of-bounds write";
    case FailureKind::modified_input: return "modified input";
    case FailureKind::stale_result: return "stale result";
    case FailureKind::wrong_values: return "wrong values";
    case FailureKind::nondeterministic: return "nondeterministic";
  }
  return "?";
}

std::string_view distribution_name(Distribution d) {
  switch (d) {
    case Distribution::normal: return "normal";
    case Distribution::uniform: return "uniform";
    case Distribution::heavy_tailed: return "heavy_tailed";
    case Distribution::small_int: return "small_int";
  }
  return "?";
}

namespace {

using harness::GuardedTensor;

struct Failure {
  FailureKind kind;
  std::string detail;
};

// One verify session: the tensors on the implementation's backend plus host copies of inputs.
class Session {
 public:
  Session(const OpSpec& spec, const Implementation& impl, const Problem& p, const VerifyOptions& opt)
      : spec_(spec), impl_(impl), p_(p), opt_(opt), descs_(spec.tensors(p)) {
    while (n_in_ < descs_.size() && descs_[n_in_].role == TensorDesc::Role::input) ++n_in_;
  }

  VerifyResult run() {
    VerifyResult res;
    std::string why;
    be_ = backend_for(impl_.device(), &why);
    if (!be_) return skipped(res, "no " + std::string(device_name(impl_.device())) + " backend: " + why);
    for (const auto& d : descs_) {
      auto t = GuardedTensor::allocate(*be_, d);
      if (!t.ok()) return failed(res, {FailureKind::run_error, t.status().message()});
      tensors_.push_back(std::move(*t));
      views_.push_back(tensors_.back().view());
    }
    for (size_t o = n_in_; o < descs_.size(); ++o) tols_.push_back(spec_.output_tolerance(p_, o - n_in_));
    res.tolerance_rel_l2 = tols_.empty() ? 0 : tols_[0].max_rel_l2;
    choose_rows(res);
    uint64_t seed = opt_.seed * 1000003u;
    for (Distribution dist : kAllDistributions) {
      // Two input sets per distribution: the candidate runs on A, the reference runs, then the
      // candidate runs on B (so a cached or stale result cannot pass), then on B again (determinism).
      auto in_a = harness::make_inputs(descs_, dist, ++seed, opt_.threads);
      auto in_b = harness::make_inputs(descs_, dist, ++seed, opt_.threads);
      std::vector<std::vector<unsigned char>> out_b;
      std::vector<RefOutput> ref_a;
      const std::string tag = std::string(distribution_name(dist)) + " seed " + std::to_string(seed - 1);
      if (auto f = run_and_check(in_a, ref_a, nullptr, nullptr, res)) return failed(res, *f, tag);
      if (auto f = run_and_check(in_b, ref_a, &ref_a, &out_b, res)) return failed(res, *f, std::string(distribution_name(dist)) + " seed " + std::to_string(seed));
      if (auto f = determinism(in_b, out_b, res)) return failed(res, *f, tag);
    }
    res.verdict = Verdict::passed;
    return res;
  }

 private:
  // Rows the reference computes: all, unless that would cost more than the budget; then the first,
  // the last and random ones in between.
  void choose_rows(VerifyResult& res) {
    const TensorDesc& out = descs_[n_in_];
    const int64_t rows = harness::rows_of(out);
    const double per_row = std::max(1.0, spec_.work(p_).flops / double(rows));
    const int64_t budget = std::max<int64_t>(2, int64_t(opt_.max_reference_flops / per_row));
    rows_.clear();
    if (budget >= rows) {
      for (int64_t i = 0; i < rows; ++i) rows_.push_back(i);
    } else {
      std::mt19937_64 rng(opt_.seed);
      rows_.push_back(0);
      rows_.push_back(rows - 1);
      while (int64_t(rows_.size()) < budget) rows_.push_back(int64_t(rng() % uint64_t(rows)));
      std::sort(rows_.begin(), rows_.end());
      rows_.erase(std::unique(rows_.begin(), rows_.end()), rows_.end());
    }
    res.rows_checked = int64_t(rows_.size());
    res.rows_total = rows;
  }

  std::optional<Failure> call(const std::vector<std::vector<unsigned char>>& in) {
    for (size_t i = 0; i < n_in_; ++i)
      if (auto s = tensors_[i].upload(in[i]); !s.ok()) return Failure{FailureKind::run_error, s.message()};
    for (size_t i = n_in_; i < tensors_.size(); ++i)
      if (auto s = tensors_[i].poison(); !s.ok()) return Failure{FailureKind::run_error, s.message()};
    RunContext ctx{be_->stream(), opt_.threads};
    Status st;
    try {
      st = impl_.run(p_, opt_.config, views_, ctx);
    } catch (const std::exception& e) {
      // A throwing implementation is a failed one, never a crashed driver.
      st = Status::error(StatusCode::internal, impl_.op(), impl_.name(), std::string("threw: ") + e.what());
    }
    if (st.ok()) st = be_->synchronize();
    if (!st.ok()) return Failure{FailureKind::run_error, st.message()};
    for (const auto& t : tensors_) {
      auto g = t.check_guards();
      if (!g.ok()) return Failure{FailureKind::run_error, g.status().message()};
      if (!g->empty()) return Failure{FailureKind::out_of_bounds, "guard " + *g + " was overwritten"};
    }
    for (size_t i = 0; i < n_in_; ++i) {
      auto now = tensors_[i].download();
      if (!now.ok()) return Failure{FailureKind::run_error, now.status().message()};
      if (*now != in[i]) {
        size_t b = 0;
        while ((*now)[b] == in[i][b]) ++b;
        return Failure{FailureKind::modified_input, "input " + descs_[i].name + " changed (first at byte " + std::to_string(b) + ")"};
      }
    }
    return std::nullopt;
  }

  // Runs the candidate on `in`, computes the reference into `ref`, and compares. When `previous` is
  // given and the comparison fails, checks whether the output is the previous inputs' result.
  std::optional<Failure> run_and_check(std::vector<std::vector<unsigned char>>& in, std::vector<RefOutput>& ref,
                                       const std::vector<RefOutput>* previous,
                                       std::vector<std::vector<unsigned char>>* outputs_kept, VerifyResult& res) {
    if (auto f = call(in)) return f;
    std::vector<RefOutput> fresh;
    auto hv = harness::host_views(descs_, in);
    spec_.reference(p_, std::span<const TensorView>(hv.data(), n_in_), rows_, fresh);
    for (size_t o = 0; o + n_in_ < tensors_.size(); ++o) {
      const TensorDesc& od = descs_[n_in_ + o];
      auto all = tensors_[n_in_ + o].download();
      if (!all.ok()) return Failure{FailureKind::run_error, all.status().message()};
      auto written = harness::check_all_written(od, *all);
      if (!written.ok) return Failure{written.failure, written.detail};
      auto got = tensors_[n_in_ + o].download_rows(rows_);
      if (!got.ok()) return Failure{FailureKind::run_error, got.status().message()};
      auto cmp = harness::compare_rows(od, got->data(), fresh[o], tols_[o]);
      res.worst_rel_l2 = std::max(res.worst_rel_l2, cmp.rel_l2);
      if (!cmp.ok) {
        if (previous) {
          auto stale = harness::compare_rows(od, got->data(), (*previous)[o], tols_[o]);
          if (stale.ok)
            return Failure{FailureKind::stale_result, od.name + " equals the result for the previous inputs, not these"};
        }
        return Failure{cmp.failure, cmp.detail};
      }
      if (outputs_kept) outputs_kept->push_back(std::move(*all));
    }
    ++res.trials;
    ref = std::move(fresh);
    return std::nullopt;
  }

  std::optional<Failure> determinism(std::vector<std::vector<unsigned char>>& in,
                                     const std::vector<std::vector<unsigned char>>& first, VerifyResult& res) {
    if (auto f = call(in)) return f;
    for (size_t o = 0; o + n_in_ < tensors_.size(); ++o) {
      auto again = tensors_[n_in_ + o].download();
      if (!again.ok()) return Failure{FailureKind::run_error, again.status().message()};
      if (*again != first[o] && !impl_.is_nondeterministic())
        return Failure{FailureKind::nondeterministic,
                       descs_[n_in_ + o].name + " differs bitwise between two runs on the same inputs"};
    }
    ++res.trials;
    return std::nullopt;
  }

  static VerifyResult skipped(VerifyResult& r, std::string why) {
    r.verdict = Verdict::skipped;
    r.reason = std::move(why);
    return r;
  }
  static VerifyResult failed(VerifyResult& r, const Failure& f, const std::string& context = "") {
    r.verdict = Verdict::failed;
    r.failure = f.kind;
    r.reason = std::string(failure_name(f.kind)) + ": " + f.detail + (context.empty() ? "" : " [" + context + "]");
    return r;
  }

  const OpSpec& spec_;
  const Implementation& impl_;
  const Problem& p_;
  const VerifyOptions& opt_;
  std::vector<TensorDesc> descs_;
  size_t n_in_ = 0;
  Backend* be_ = nullptr;
  std::vector<GuardedTensor> tensors_;
  std::vector<TensorView> views_;
  std::vector<Tolerance> tols_;  // one per output
  std::vector<int64_t> rows_;
};

}  // namespace

VerifyResult verify(const OpSpec& spec, const Implementation& impl, const Problem& p, const VerifyOptions& opt) {
  VerifyResult res;
  if (auto s = spec.validate(p); !s.ok()) {
    res.verdict = Verdict::failed;
    res.failure = FailureKind::run_error;
    res.reason = s.message();
    return res;
  }
  if (auto sup = impl.supports(p); !sup.ok) {
    res.verdict = Verdict::unsupported;
    res.reason = sup.reason;
    return res;
  }
  if (auto s = check_config(impl, p, opt.config); !s.ok()) {
    res.verdict = Verdict::unsupported;
    res.reason = s.message();
    return res;
  }
  VerifyOptions run_opt = opt;
  TunedChoice tuned;
  if (opt.config.empty() && opt.tuning) {
    tuned = tuned_config(*opt.tuning, impl, p, spec.format(p), opt.threads);
    run_opt.config = tuned.config;
  }
  res = Session(spec, impl, p, run_opt).run();
  res.config = run_opt.config;
  res.tuned = tuned.found;
  res.warning = tuned.warning;
  return res;
}

}  // namespace tessel
