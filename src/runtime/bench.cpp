// bench: times implementations side by side, checking every timed call, against the probed ceilings.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <random>

#include "harness_memory.hpp"
#include "tessel/cpu/isa.hpp"
#include "tessel/runtime/harness.hpp"
#include "tessel/runtime/tuning_db.hpp"

namespace tessel {
namespace {

using harness::GuardedTensor;
using Clock = std::chrono::steady_clock;

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const size_t lo = size_t(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

// One input set on the device: its tensors, and the reference for the rows checked after each call.
struct InputSet {
  std::vector<GuardedTensor> tensors;
  std::vector<TensorView> views;
  std::vector<int64_t> rows;
  std::vector<RefOutput> ref;
};

struct Candidate {
  const Implementation* impl;
  BenchRow row;
  std::vector<double> times;
  bool active = true;
  Config config;  // what it runs: pinned, tuned, or empty (its defaults)
};

class DeviceBench {
 public:
  DeviceBench(const OpSpec& spec, const Problem& p, Backend& be, const BenchOptions& opt)
      : spec_(spec), p_(p), be_(be), opt_(opt), descs_(spec.tensors(p)) {
    while (n_in_ < descs_.size() && descs_[n_in_].role == TensorDesc::Role::input) ++n_in_;
    for (size_t o = n_in_; o < descs_.size(); ++o) tols_.push_back(spec.output_tolerance(p, o - n_in_));
  }

  Status setup() {
    for (auto& set : sets_) {
      for (const auto& d : descs_) {
        auto t = GuardedTensor::allocate(be_, d);
        if (!t.ok()) return t.status();
        set.tensors.push_back(std::move(*t));
        set.views.push_back(set.tensors.back().view());
      }
    }
    for (size_t s = 0; s < sets_.size(); ++s) TESSEL_RETURN_IF_ERROR(refresh(s));
    return {};
  }

  // New values for set `s` (outside any timed window), and the reference for a few random rows.
  Status refresh(size_t s) {
    InputSet& set = sets_[s];
    const Distribution dist = kAllDistributions[seed_ % 2];  // alternate normal and uniform
    auto in = harness::make_inputs(descs_, dist, opt_.seed + seed_++, opt_.threads);
    for (size_t i = 0; i < n_in_; ++i) TESSEL_RETURN_IF_ERROR(set.tensors[i].upload(in[i]));
    const int64_t rows = harness::rows_of(descs_[n_in_]);
    set.rows.clear();
    set.rows.push_back(int64_t(rng_() % uint64_t(rows)));
    set.rows.push_back(rows - 1);  // the tail row, where skipped tails show
    while (int64_t(set.rows.size()) < std::min<int64_t>(opt_.check_rows, rows))
      set.rows.push_back(int64_t(rng_() % uint64_t(rows)));
    std::sort(set.rows.begin(), set.rows.end());
    set.rows.erase(std::unique(set.rows.begin(), set.rows.end()), set.rows.end());
    auto hv = harness::host_views(descs_, in);
    spec_.reference(p_, std::span<const TensorView>(hv.data(), n_in_), set.rows, set.ref);
    return {};
  }

  // One checked call; `timed` returns the device time of the run alone.
  Status call(Candidate& c, size_t s, double* timed) {
    InputSet& set = sets_[s];
    for (size_t i = n_in_; i < set.tensors.size(); ++i) TESSEL_RETURN_IF_ERROR(set.tensors[i].poison());
    std::vector<Backend::Region> live;
    for (const auto& t : set.tensors) live.push_back({t.view().data, t.bytes()});
    TESSEL_RETURN_IF_ERROR(be_.flush_cache(live));
    RunContext ctx{be_.stream(), opt_.threads};
    auto timer = be_.make_timer();
    TESSEL_RETURN_IF_ERROR(timer->start());
    Status st;
    try {
      st = c.impl->run(p_, c.config, set.views, ctx);
    } catch (const std::exception& e) {
      st = Status::error(StatusCode::internal, c.impl->op(), c.impl->name(), std::string("threw: ") + e.what());
    }
    TESSEL_RETURN_IF_ERROR(st);
    TESSEL_RETURN_IF_ERROR(timer->stop());
    auto secs = timer->seconds();
    if (!secs.ok()) return secs.status();
    if (timed) *timed = *secs;
    // The check of the very call just timed, outside the timed window.
    for (const auto& t : set.tensors) {
      auto g = t.check_guards();
      if (!g.ok()) return g.status();
      if (!g->empty()) return Status::error(StatusCode::internal, spec_.name(), c.impl->name(), "out-of-bounds write: guard " + *g + " was overwritten");
    }
    for (size_t o = 0; n_in_ + o < set.tensors.size(); ++o) {
      auto got = set.tensors[n_in_ + o].download_rows(set.rows);
      if (!got.ok()) return got.status();
      auto cmp = harness::compare_rows(descs_[n_in_ + o], got->data(), set.ref[o], tols_[o]);
      if (!cmp.ok)
        return Status::error(StatusCode::internal, spec_.name(), c.impl->name(),
                             std::string(failure_name(cmp.failure)) + " in a timed call: " + cmp.detail);
    }
    return {};
  }

  void run(std::vector<Candidate>& cands) {
    auto fail = [](Candidate& c, const Status& s) {
      c.active = false;
      c.row.verdict = Verdict::failed;
      c.row.reason = s.message();
    };
    // Warm up each candidate by time: clocks ramp, code and tables load, lazy init happens.
    for (auto& c : cands) {
      const auto t0 = Clock::now();
      do {
        if (auto s = call(c, 0, nullptr); !s.ok()) { fail(c, s); break; }
      } while (std::chrono::duration<double>(Clock::now() - t0).count() < opt_.warmup_seconds);
    }
    const auto start = Clock::now();
    const double wall_budget = opt_.max_seconds * double(std::max<size_t>(1, cands.size()));
    for (int rep = 0;; ++rep) {
      const size_t s = size_t(rep) % sets_.size();
      bool any = false;
      for (auto& c : cands) {  // interleaved: every candidate sees the same set and machine state
        if (!c.active) continue;
        double t = 0;
        if (auto st = call(c, s, &t); !st.ok()) { fail(c, st); continue; }
        c.times.push_back(t);
        any = true;
      }
      if (!any) break;
      const double wall = std::chrono::duration<double>(Clock::now() - start).count();
      bool all_done = true;
      for (auto& c : cands) {
        if (!c.active) continue;
        const int n = int(c.times.size());
        double sum = 0;
        for (double t : c.times) sum += t;
        const bool enough = n >= opt_.min_reps && sum >= opt_.min_seconds &&
                            (quantile(c.times, 0.75) - quantile(c.times, 0.25)) <= opt_.target_rel_iqr * quantile(c.times, 0.5);
        all_done &= enough || n >= opt_.max_reps;
      }
      const bool min_met = std::all_of(cands.begin(), cands.end(), [&](const Candidate& c) {
        return !c.active || int(c.times.size()) >= opt_.min_reps;
      });
      if (all_done || (wall > wall_budget && min_met)) break;
      if (opt_.progress && rep % 10 == 9) opt_.progress("  " + spec_.format(p_) + ": " + std::to_string(rep + 1) + " reps");
      if (auto st = refresh(s); !st.ok()) {
        for (auto& c : cands) if (c.active) fail(c, st);
        break;
      }
    }
  }

 private:
  const OpSpec& spec_;
  const Problem& p_;
  Backend& be_;
  const BenchOptions& opt_;
  std::vector<TensorDesc> descs_;
  std::vector<Tolerance> tols_;  // one per output
  size_t n_in_ = 0;
  std::array<InputSet, 2> sets_;  // rotated, so consecutive calls never see the same values or the same addresses
  uint64_t seed_ = 0;
  std::mt19937_64 rng_{12345};
};

// Times each device's candidates side by side, fills in their statistics against the ceilings and,
// when `compare`, their speedup over the baseline (opt.baseline, else the device's best baseline), and
// appends their rows.
void measure(const OpSpec& spec, const Problem& p, const MachineProbe* machine, const BenchOptions& opt,
             std::map<Device, std::vector<Candidate>>& by_device, bool compare, std::vector<BenchRow>& rows) {
  const Work work = spec.work(p);
  for (auto& [device, cands] : by_device) {
    std::string why;
    Backend* be = backend_for(device, &why);
    if (!be) {
      for (auto& c : cands) {
        c.row.verdict = Verdict::skipped;
        c.row.reason = "no backend: " + why;
        rows.push_back(c.row);
      }
      continue;
    }
    DeviceBench db(spec, p, *be, opt);
    if (auto s = db.setup(); !s.ok()) {
      for (auto& c : cands) {
        c.row.verdict = Verdict::failed;
        c.row.reason = s.message();
        rows.push_back(c.row);
      }
      continue;
    }
    db.run(cands);
    const Roofline roof = machine ? roofline_for(*machine, device) : Roofline{};
    for (auto& c : cands) {
      BenchRow& r = c.row;
      r.n = int(c.times.size());
      if (r.verdict == Verdict::passed && r.n > 0) {
        r.median_s = quantile(c.times, 0.5);
        r.iqr_s = quantile(c.times, 0.75) - quantile(c.times, 0.25);
        r.tflops = work.flops / r.median_s / 1e12;
        r.gbps = work.min_bytes / r.median_s / 1e9;
        const double peak = compute_peak(work, roof);
        const double fc = peak > 0 ? work.flops / r.median_s / peak : 0;
        const double fb = roof.bytes_per_s > 0 ? work.min_bytes / r.median_s / roof.bytes_per_s : 0;
        r.pct_roofline = 100 * std::max(fc, fb);
        r.bound = fc >= fb ? "compute" : "memory";
        // Above a measured ceiling means the timing or the work model is wrong: flag, never boast.
        r.suspect = fc > 1.05 || fb > 1.05;
      }
    }
    // The baseline: the one asked for, else the best baseline on this device that passed.
    const Candidate* base = nullptr;
    for (const auto& c : cands)
      if (compare && c.row.verdict == Verdict::passed && c.row.n > 0 &&
          (opt.baseline.empty() ? c.impl->is_baseline() : c.impl->name() == opt.baseline)) {
        base = &c;
        break;
      }
    for (auto& c : cands) {
      if (base && c.row.verdict == Verdict::passed && c.row.n > 0) {
        c.row.speedup = base->row.median_s / c.row.median_s;
        c.row.baseline = base->impl->name();
      }
      rows.push_back(c.row);
    }
  }
}

BenchRow new_row(const Implementation& impl, const std::string& canonical) {
  BenchRow row;
  row.problem = canonical;
  row.impl = impl.name();
  row.device = impl.device();
  row.is_baseline = impl.is_baseline();
  row.repro = (impl.device() == Device::cpu ? cpu::isa_env_prefix() : "") + "tessel bench \"" + canonical +
              "\" --impl " + impl.name();
  return row;
}

void set_config(BenchRow& row, const Config& config) {
  if (config.empty()) return;
  row.config = format_config(config);
  row.repro += " --config " + row.config;
}

}  // namespace

std::vector<BenchRow> bench(const OpSpec& spec, const std::vector<const Implementation*>& impls, const Problem& p,
                            const MachineProbe* machine, const BenchOptions& opt) {
  std::vector<BenchRow> rows;
  const std::string canonical = spec.format(p);
  std::map<Device, std::vector<Candidate>> by_device;
  for (const Implementation* impl : impls) {
    BenchRow row = new_row(*impl, canonical);
    if (auto sup = impl->supports(p); !sup.ok) {
      row.verdict = Verdict::unsupported;
      row.reason = sup.reason;
      rows.push_back(row);
      continue;
    }
    Config config;
    if (!opt.config.empty()) {
      if (Status st = check_config(*impl, p, opt.config); st.ok()) {
        config = opt.config;
      } else if (!impl->is_baseline()) {
        // A candidate that does not take the config is not what was asked for: say so, do not time
        // its defaults. (Baselines always run their defaults.)
        row.verdict = Verdict::unsupported;
        row.reason = st.message();
        rows.push_back(row);
        continue;
      }
    } else if (opt.tuning) {
      TunedChoice tuned = tuned_config(*opt.tuning, *impl, p, canonical, opt.threads);
      row.warning = tuned.warning;
      row.tuned = tuned.found;
      config = tuned.config;
    }
    set_config(row, config);
    by_device[impl->device()].push_back(Candidate{impl, row, {}, true, config});
  }
  measure(spec, p, machine, opt, by_device, true, rows);
  return rows;
}

std::vector<BenchRow> bench_configs(const OpSpec& spec, const Implementation& impl, const Problem& p,
                                    const std::vector<Config>& configs, const MachineProbe* machine,
                                    const BenchOptions& opt) {
  std::vector<BenchRow> rows;
  const std::string canonical = spec.format(p);
  if (auto sup = impl.supports(p); !sup.ok) {
    for (const Config& config : configs) {
      rows.push_back(new_row(impl, canonical));
      set_config(rows.back(), config);
      rows.back().verdict = Verdict::unsupported;
      rows.back().reason = sup.reason;
    }
    return rows;
  }
  std::map<Device, std::vector<Candidate>> by_device;
  for (const Config& config : configs) {
    BenchRow row = new_row(impl, canonical);
    set_config(row, config);
    by_device[impl.device()].push_back(Candidate{&impl, row, {}, true, config});
  }
  measure(spec, p, machine, opt, by_device, false, rows);
  return rows;
}

}  // namespace tessel
