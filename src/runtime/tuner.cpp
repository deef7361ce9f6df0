// The tuner: the cartesian product of a config space, ordered by the cost model, measured by bench.
#include "tessel/runtime/tuner.hpp"

#include <algorithm>
#include <numeric>

namespace tessel {
namespace {

// Beyond this many configs a space is a bug in its implementation, not something to enumerate.
constexpr size_t kMaxConfigs = size_t{1} << 16;

}  // namespace

double TuneResult::speedup() const {
  if (best < 0 || default_index < 0) return 0;
  const BenchRow& d = candidates[size_t(default_index)].row;
  const BenchRow& b = candidates[size_t(best)].row;
  if (!candidates[size_t(default_index)].measured || d.verdict != Verdict::passed || d.median_s <= 0) return 0;
  return d.median_s / b.median_s;
}

bool beats_default(const BenchRow& candidate, const BenchRow& dflt) {
  const double margin = std::max(0.01 * dflt.median_s, 0.5 * (candidate.iqr_s + dflt.iqr_s));
  return candidate.median_s < dflt.median_s - margin;
}

Result<std::vector<TuneCandidate>> rank_configs(const OpSpec& spec, const Implementation& impl, const Problem& p,
                                                const Roofline& roof) {
  const std::vector<Tunable> space = impl.config_space(p);
  size_t total = 1;
  for (const Tunable& t : space) {
    if (t.values.empty()) return Status::error(StatusCode::internal, impl.name(), t.name, "tunable has no values");
    total *= t.values.size();
    if (total > kMaxConfigs)
      return Status::invalid(impl.name(), "config space", "more than " + std::to_string(kMaxConfigs) +
                                                              " configs; too many to enumerate");
  }
  const Work work = spec.work(p);
  std::vector<TuneCandidate> cands;
  std::vector<int> distance;  // tunables away from the default
  std::vector<size_t> digit(space.size(), 0);  // an odometer over the values, the last tunable fastest
  for (size_t n = 0; n < total; ++n) {
    TuneCandidate c;
    int away = 0;
    for (size_t t = 0; t < space.size(); ++t) {
      c.config[space[t].name] = space[t].values[digit[t]];
      away += digit[t] != 0;
    }
    c.is_default = away == 0;
    c.predicted_s = impl.predict_seconds(p, c.config, work, roof);
    cands.push_back(std::move(c));
    distance.push_back(away);
    for (size_t t = space.size(); t-- > 0;) {
      if (++digit[t] < space[t].values.size()) break;
      digit[t] = 0;
    }
  }
  std::vector<size_t> order(cands.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (cands[a].predicted_s != cands[b].predicted_s) return cands[a].predicted_s < cands[b].predicted_s;
    return distance[a] < distance[b];
  });
  std::vector<TuneCandidate> ranked;
  ranked.reserve(cands.size());
  for (size_t i : order) ranked.push_back(std::move(cands[i]));
  return ranked;
}

Result<TuneResult> tune(const OpSpec& spec, const Implementation& impl, const Problem& p, const MachineProbe* machine,
                        const TuneOptions& opt) {
  if (opt.budget < 1) return Status::invalid("tune", "budget", "must be at least 1, got " + std::to_string(opt.budget));
  if (Support sup = impl.supports(p); !sup.ok) return Status::unsupported(impl.op(), impl.name(), sup.reason);
  const Roofline roof = machine ? roofline_for(*machine, impl.device()) : Roofline{};
  auto ranked = rank_configs(spec, impl, p, roof);
  if (!ranked.ok()) return ranked.status();
  TuneResult r;
  r.problem = spec.format(p);
  r.impl = impl.name();
  r.candidates = std::move(*ranked);
  std::vector<size_t> chosen;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    if (r.candidates[i].is_default) r.default_index = int(i);
    if (i < size_t(opt.budget) || r.candidates[i].is_default) chosen.push_back(i);
  }
  std::vector<Config> configs;
  for (size_t i : chosen) configs.push_back(r.candidates[i].config);
  const std::vector<BenchRow> rows = bench_configs(spec, impl, p, configs, machine, opt.bench);
  for (size_t j = 0; j < chosen.size(); ++j) {
    TuneCandidate& c = r.candidates[chosen[j]];
    c.measured = true;
    c.row = rows[j];
    const bool ok = c.row.verdict == Verdict::passed && c.row.n > 0;
    if (ok && (r.best < 0 || c.row.median_s < r.candidates[size_t(r.best)].row.median_s)) r.best = int(chosen[j]);
  }
  const TuneCandidate& dflt = r.candidates[size_t(r.default_index)];
  if (r.best >= 0 && dflt.row.verdict == Verdict::passed && dflt.row.n > 0 &&
      !beats_default(r.candidates[size_t(r.best)].row, dflt.row))
    r.best = r.default_index;
  return r;
}

}  // namespace tessel
