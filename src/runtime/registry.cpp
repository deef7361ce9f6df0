// The op registry: specs, ordered implementation lists, descriptor parsing, and the reference impl.
#include "tessel/runtime/registry.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string>

namespace tessel {

Result<Problem> OpSpec::parse(std::string_view descriptor) const {
  auto raw = tokenize_descriptor(descriptor);
  if (!raw.ok()) return raw.status();
  if (raw->op != name()) return Status::invalid(name(), "op", "descriptor is for '" + raw->op + "'");
  auto p = apply_schema(*raw, params());
  if (!p.ok()) return p.status();
  TESSEL_RETURN_IF_ERROR(validate(*p));
  return p;
}

int64_t config_value(const Config& config, const std::vector<Tunable>& space, const std::string& name) {
  if (auto it = config.find(name); it != config.end()) return it->second;
  for (const auto& t : space)
    if (t.name == name && !t.values.empty()) return t.values.front();
  throw std::logic_error("no tunable named '" + name + "'");
}

Result<Config> parse_config(const std::string& text) {
  Config c;
  size_t at = 0;
  while (at <= text.size() && !text.empty()) {
    const size_t end = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, end - at);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return Status::invalid("config", item, "expected key=value (an integer), e.g. splits=2");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || ptr != value.data() + value.size())
      return Status::invalid("config", key, "value must be an integer, got '" + value + "'");
    if (!c.emplace(key, v).second) return Status::invalid("config", key, "given twice");
    at = end + 1;
  }
  return c;
}

std::string format_config(const Config& config) {
  std::string s;
  for (const auto& [k, v] : config) s += (s.empty() ? "" : ",") + k + "=" + std::to_string(v);
  return s;
}

double compute_peak(const Work& work, const Roofline& roof) {
  if (work.int8_bound && roof.int8_ops_per_s > 0) return roof.int8_ops_per_s;
  return work.matrix_bound ? roof.matrix_flops_per_s * work.matrix_rate : roof.flops_per_s;
}

double roofline_seconds(const Work& work, const Roofline& roof) {
  const double peak = compute_peak(work, roof);
  const double compute = peak > 0 ? work.flops / peak : 0;
  const double memory = roof.bytes_per_s > 0 ? work.min_bytes / roof.bytes_per_s : 0;
  return std::max(compute, memory);
}

double Implementation::predict_seconds(const Problem&, const Config&, const Work& work, const Roofline& roof) const {
  return roofline_seconds(work, roof);
}

Status check_config(const Implementation& impl, const Problem& p, const Config& config) {
  const std::vector<Tunable> space = impl.config_space(p);
  for (const auto& [key, value] : config) {
    auto t = std::find_if(space.begin(), space.end(), [&](const Tunable& x) { return x.name == key; });
    if (t == space.end()) {
      std::string names;
      for (const auto& x : space) names += (names.empty() ? "" : ", ") + x.name;
      return Status::invalid(impl.name(), key, "not a tunable of this implementation (it has: " +
                                                   (names.empty() ? std::string("none") : names) + ")");
    }
    if (std::find(t->values.begin(), t->values.end(), value) == t->values.end()) {
      std::string vals;
      for (int64_t x : t->values) vals += (vals.empty() ? "" : ", ") + std::to_string(x);
      return Status::invalid(impl.name(), key, std::to_string(value) + " is not one of its values (" + vals + ")");
    }
  }
  return {};
}

namespace {

// Every op gets this implementation for free: the spec's double reference, rounded to the output
// dtype. It is the last entry of each list, the fallback of last resort and a check on verify itself.
class ReferenceImpl final : public Implementation {
 public:
  explicit ReferenceImpl(const OpSpec* spec) : spec_(spec) {}
  std::string name() const override { return "reference"; }
  std::string op() const override { return spec_->name(); }
  Device device() const override { return Device::cpu; }
  bool is_reference() const override { return true; }
  int priority() const override { return -1000; }
  Support supports(const Problem& p) const override {
    // The reference is for checking, not speed: keep it off problems that would take minutes.
    if (spec_->work(p).flops > 2e10) return Support::no("problem too large for the double reference (> 2e10 flops)");
    return Support::yes();
  }
  Status run(const Problem& p, const Config&, std::span<const TensorView> tensors, const RunContext&) const override {
    const auto descs = spec_->tensors(p);
    size_t n_in = 0;
    while (n_in < descs.size() && descs[n_in].role == TensorDesc::Role::input) ++n_in;
    const TensorView& first_out = tensors[n_in];
    const int64_t rows = first_out.numel() / std::max<int64_t>(1, first_out.shape.back());
    std::vector<int64_t> all(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) all[size_t(i)] = i;
    std::vector<RefOutput> outs;
    spec_->reference(p, tensors.subspan(0, n_in), all, outs);
    for (size_t o = 0; o < outs.size(); ++o) {
      const TensorView& t = tensors[n_in + o];
      for (size_t i = 0; i < outs[o].values.size(); ++i)
        store_from_double(t.dtype, t.data, static_cast<int64_t>(i), outs[o].values[i]);
    }
    return {};
  }

 private:
  const OpSpec* spec_;
};

}  // namespace

Registry& Registry::global() {
  static Registry* r = [] {
    auto* reg = new Registry();
    register_builtin_ops(*reg);
    return reg;
  }();
  return *r;
}

void Registry::add_spec(std::unique_ptr<OpSpec> spec) {
  if (this->spec(spec->name())) throw std::logic_error("op '" + spec->name() + "' registered twice");
  const OpSpec* raw = spec.get();
  specs_.push_back(std::move(spec));
  add_impl(std::make_unique<ReferenceImpl>(raw));
}

void Registry::add_impl(std::unique_ptr<Implementation> impl) {
  if (!spec(impl->op())) throw std::logic_error("implementation for unregistered op '" + impl->op() + "'");
  if (this->impl(impl->op(), impl->name()))
    throw std::logic_error(impl->op() + ": implementation '" + impl->name() + "' registered twice");
  impls_.push_back(std::move(impl));
  // Stable: equal priorities keep registration order.
  std::stable_sort(impls_.begin(), impls_.end(), [](const auto& a, const auto& b) {
    if (a->is_reference() != b->is_reference()) return !a->is_reference();
    return a->priority() > b->priority();
  });
}

const OpSpec* Registry::spec(const std::string& op) const {
  for (const auto& s : specs_)
    if (s->name() == op) return s.get();
  return nullptr;
}

std::vector<const OpSpec*> Registry::specs() const {
  std::vector<const OpSpec*> v;
  for (const auto& s : specs_) v.push_back(s.get());
  return v;
}

std::vector<const Implementation*> Registry::impls(const std::string& op) const {
  std::vector<const Implementation*> v;
  for (const auto& i : impls_)
    if (i->op() == op) v.push_back(i.get());
  return v;
}

const Implementation* Registry::impl(const std::string& op, const std::string& name) const {
  for (const auto& i : impls_)
    if (i->op() == op && i->name() == name) return i.get();
  return nullptr;
}

Result<Problem> Registry::parse(std::string_view descriptor) const {
  auto raw = tokenize_descriptor(descriptor);
  if (!raw.ok()) return raw.status();
  const OpSpec* s = spec(raw->op);
  if (!s) {
    std::string known;
    for (const auto& sp : specs_) known += (known.empty() ? "" : ", ") + sp->name();
    return Status::invalid(raw->op, "op", "unknown op (known: " + known + ")");
  }
  auto p = apply_schema(*raw, s->params());
  if (!p.ok()) return p.status();
  TESSEL_RETURN_IF_ERROR(s->validate(*p));
  return p;
}

}  // namespace tessel
