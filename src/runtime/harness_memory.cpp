// Harness-owned memory: guarded buffers, counter-based seeded inputs, poison patterns, comparisons.
#include "harness_memory.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

#include "tessel/cpu/parallel.hpp"

namespace tessel::harness {

int64_t cols_of(const TensorDesc& d) { return d.shape.empty() ? 1 : d.shape.back(); }
int64_t rows_of(const TensorDesc& d) {
  int64_t r = 1;
  for (size_t i = 0; i + 1 < d.shape.size(); ++i) r *= d.shape[i];
  return r;
}
size_t bytes_of(const TensorDesc& d) { return dtype_storage_bytes(d.dtype, rows_of(d) * cols_of(d)); }

GuardedTensor& GuardedTensor::operator=(GuardedTensor&& o) noexcept {
  if (this != &o) {
    if (be_ && base_) be_->free(base_);
    be_ = o.be_;
    base_ = o.base_;
    bytes_ = o.bytes_;
    desc_ = std::move(o.desc_);
    view_ = std::move(o.view_);
    o.base_ = nullptr;
  }
  return *this;
}

GuardedTensor::~GuardedTensor() {
  if (be_ && base_) be_->free(base_);
}

Result<GuardedTensor> GuardedTensor::allocate(Backend& be, const TensorDesc& desc) {
  GuardedTensor t;
  t.be_ = &be;
  t.desc_ = desc;
  t.bytes_ = bytes_of(desc);
  auto mem = be.alloc(t.bytes_ + 2 * kGuardBytes);
  if (!mem.ok()) return mem.status();
  t.base_ = *mem;
  TESSEL_RETURN_IF_ERROR(be.fill_bytes(t.base_, kGuardByte, t.bytes_ + 2 * kGuardBytes));
  t.view_.data = static_cast<unsigned char*>(t.base_) + kGuardBytes;
  t.view_.dtype = desc.dtype;
  t.view_.shape = desc.shape;
  t.view_.strides = contiguous_strides(desc.shape);
  t.view_.device = be.device();
  return t;
}

Result<std::string> GuardedTensor::check_guards() const {
  std::vector<unsigned char> g(kGuardBytes);
  const auto* base = static_cast<const unsigned char*>(base_);
  for (int side = 0; side < 2; ++side) {
    TESSEL_RETURN_IF_ERROR(be_->copy_to_host(g.data(), side == 0 ? base : base + kGuardBytes + bytes_, kGuardBytes));
    for (size_t i = 0; i < kGuardBytes; ++i)
      if (g[i] != kGuardByte)
        return std::string(side == 0 ? "before" : "after") + " " + desc_.name + " (byte " +
               std::to_string(side == 0 ? int64_t(i) - int64_t(kGuardBytes) : int64_t(bytes_ + i)) + ")";
  }
  return std::string();
}

std::vector<unsigned char> poison_pattern(DType t) {
  switch (t) {
    case DType::f64: { const uint64_t v = 0x7ff8dead7ff8deadull; std::vector<unsigned char> p(8); std::memcpy(p.data(), &v, 8); return p; }
    case DType::f32: { const uint32_t v = 0x7fc0dead; std::vector<unsigned char> p(4); std::memcpy(p.data(), &v, 4); return p; }
    case DType::f16: return {0x01, 0x7e};   // 0x7e01: a quiet NaN
    case DType::bf16: return {0xc1, 0x7f};  // 0x7fc1: a quiet NaN
    case DType::e4m3: return {0x7f};
    case DType::e5m2: return {0x7f};
    default: return {0xA5};
  }
}

Status GuardedTensor::poison() {
  const auto pat = poison_pattern(desc_.dtype);
  return be_->fill_pattern(view_.data, pat.data(), pat.size(), bytes_);
}

Status GuardedTensor::upload(const std::vector<unsigned char>& host) {
  return be_->copy_to_device(view_.data, host.data(), bytes_);
}

Result<std::vector<unsigned char>> GuardedTensor::download() const {
  std::vector<unsigned char> h(bytes_);
  TESSEL_RETURN_IF_ERROR(be_->copy_to_host(h.data(), view_.data, bytes_));
  return h;
}

Result<std::vector<unsigned char>> GuardedTensor::download_rows(const std::vector<int64_t>& rows) const {
  if (dtype_is_packed(desc_.dtype)) {
    // Packed rows need not start on a byte; download all and cut on the host.
    auto all = download();
    if (!all.ok()) return all.status();
    std::vector<unsigned char> out;
    const int64_t cols = cols_of(desc_);
    std::vector<unsigned char> row(dtype_storage_bytes(desc_.dtype, cols));
    for (int64_t r : rows) {
      std::fill(row.begin(), row.end(), 0);
      for (int64_t c = 0; c < cols; ++c)
        store_from_double(desc_.dtype, row.data(), c, load_as_double(desc_.dtype, all->data(), r * cols + c));
      out.insert(out.end(), row.begin(), row.end());
    }
    return out;
  }
  const size_t row_bytes = dtype_storage_bytes(desc_.dtype, cols_of(desc_));
  std::vector<unsigned char> out(rows.size() * row_bytes);
  for (size_t i = 0; i < rows.size(); ++i)
    TESSEL_RETURN_IF_ERROR(be_->copy_to_host(out.data() + i * row_bytes,
                                             static_cast<const unsigned char*>(view_.data) + size_t(rows[i]) * row_bytes,
                                             row_bytes));
  return out;
}

namespace {

// splitmix64: a strong 64-bit mix, so element i of seed s is independent of thread layout.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
double unit(uint64_t bits) { return (double(bits >> 11) + 0.5) * 0x1p-53; }  // (0, 1)

// Mostly normal, with 1% outliers 20-50x larger: the values that break narrow accumulators. Element
// by element, as the statistical tolerances of the low-bit ops were calibrated on these very draws.
double draw_heavy_tailed(uint64_t seed, uint64_t i) {
  const uint64_t a = mix(seed ^ mix(2 * i)), b = mix(seed ^ mix(2 * i + 1));
  const double z = std::sqrt(-2 * std::log(unit(a))) * std::cos(2 * std::numbers::pi * unit(b));
  const uint64_t c = mix(a ^ b);
  if (c % 100 == 0) return (c & 128 ? -1 : 1) * (20 + 30 * unit(mix(c)));
  return z;
}

// Elements 2j and 2j + 1 of a draw, from one pair of counters: for the normal distribution the
// cosine and the sine of one Box-Muller draw, so a pair costs one logarithm (input generation is
// most of a CPU bench's wall time). Element i depends only on (seed, i), never on how the elements
// are split across threads.
void draw_pair(Distribution d, uint64_t seed, uint64_t j, double out[2]) {
  const uint64_t a = mix(seed ^ mix(2 * j)), b = mix(seed ^ mix(2 * j + 1));
  switch (d) {
    case Distribution::normal: {
      const double r = std::sqrt(-2 * std::log(unit(a))), theta = 2 * std::numbers::pi * unit(b);
      out[0] = r * std::cos(theta);
      out[1] = r * std::sin(theta);
      return;
    }
    case Distribution::heavy_tailed:
      out[0] = draw_heavy_tailed(seed, 2 * j);
      out[1] = draw_heavy_tailed(seed, 2 * j + 1);
      return;
    case Distribution::uniform:
      out[0] = 2 * unit(a) - 1;
      out[1] = 2 * unit(b) - 1;
      return;
    case Distribution::small_int:  // exact in every dtype
      out[0] = double(int64_t(a % 7) - 3);
      out[1] = double(int64_t(b % 7) - 3);
      return;
  }
  out[0] = out[1] = 0;
}

}  // namespace

std::vector<std::vector<unsigned char>> make_inputs(const std::vector<TensorDesc>& descs, Distribution dist,
                                                    uint64_t seed, int threads) {
  std::vector<std::vector<unsigned char>> bufs;
  for (size_t t = 0; t < descs.size(); ++t) {
    const TensorDesc& d = descs[t];
    if (d.role != TensorDesc::Role::input) break;
    const int64_t n = rows_of(d) * cols_of(d);
    std::vector<unsigned char> buf(bytes_of(d), 0);
    const uint64_t tseed = mix(seed * 0x100000001b3ull + t);
    // Fills elements [2 * lo, 2 * hi) clipped to n: whole pairs, so each pair is drawn once.
    auto fill_pairs = [&](int64_t lo, int64_t hi) {
      double v[2];
      for (int64_t j = lo; j < hi; ++j) {
        draw_pair(dist, tseed, uint64_t(j), v);
        for (int64_t h = 0; h < 2 && 2 * j + h < n; ++h) {
          const double x = d.positive ? std::fabs(v[h]) : v[h];
          store_from_double(d.dtype, buf.data(), 2 * j + h, d.offset + d.scale * x);
        }
      }
    };
    // Packed dtypes share bytes between neighbours: threads take whole runs of 8 elements (4 pairs),
    // which start on a byte for every width, so no byte is written by two threads.
    const int64_t pairs = (n + 1) / 2;
    if (dtype_is_packed(d.dtype)) {
      cpu::parallel_for((pairs + 3) / 4, threads,
                        [&](int64_t lo, int64_t hi) { fill_pairs(4 * lo, std::min(4 * hi, pairs)); });
    } else {
      cpu::parallel_for(pairs, threads, fill_pairs);
    }
    // Never all zeros: an all-zero input hides unwritten outputs and wrong indexing.
    bool any = false;
    for (int64_t i = 0; i < n && !any; ++i) any = load_as_double(d.dtype, buf.data(), i) != 0;
    if (!any && n > 0) store_from_double(d.dtype, buf.data(), 0, d.offset + d.scale);
    bufs.push_back(std::move(buf));
  }
  return bufs;
}

std::vector<TensorView> host_views(const std::vector<TensorDesc>& descs, std::vector<std::vector<unsigned char>>& bufs) {
  std::vector<TensorView> v;
  for (size_t i = 0; i < bufs.size(); ++i)
    v.push_back(TensorView{bufs[i].data(), descs[i].dtype, descs[i].shape, contiguous_strides(descs[i].shape), Device::cpu});
  return v;
}

namespace {
bool is_poison(DType t, const unsigned char* base, int64_t i) {
  const auto pat = poison_pattern(t);
  if (!dtype_is_float(t)) return false;  // integer outputs have no value reserved for "unwritten"
  return std::memcmp(base + size_t(i) * pat.size(), pat.data(), pat.size()) == 0;
}
std::string where(const TensorDesc& d, int64_t row, int64_t col) {
  return d.name + "[" + std::to_string(row) + ", " + std::to_string(col) + "]";
}
}  // namespace

Comparison compare_rows(const TensorDesc& out, const unsigned char* got, const RefOutput& ref, const Tolerance& tol) {
  Comparison c;
  const int64_t cols = ref.cols;
  double ss_ref = 0, ss_err = 0;
  for (double r : ref.values)
    if (std::isfinite(r)) ss_ref += r * r;
  const double rms = ref.values.empty() ? 0 : std::sqrt(ss_ref / double(ref.values.size()));
  double worst_ratio = 0;
  std::string worst;
  for (size_t ri = 0; ri < ref.rows.size(); ++ri) {
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t idx = int64_t(ri) * cols + j;
      const double r = ref.values[size_t(idx)];
      const double g = load_as_double(out.dtype, got, idx);
      if (std::isnan(r)) {
        if (!std::isnan(g)) {
          c.ok = false;
          c.failure = FailureKind::wrong_values;
          c.detail = where(out, ref.rows[ri], j) + " = " + std::to_string(g) + ", expected NaN";
          return c;
        }
        continue;
      }
      if (std::isnan(g) && is_poison(out.dtype, got, idx)) {
        c.ok = false;
        c.failure = FailureKind::unwritten_output;
        c.detail = where(out, ref.rows[ri], j) + " was never written (still holds the NaN poison)";
        return c;
      }
      const double err = std::fabs(g - r);
      const double bound = tol.elem_abs + tol.elem_atol * rms + tol.elem_rtol * std::fabs(r);
      if (!(err <= bound)) {  // NaN fails here too
        const double ratio = std::isfinite(err) ? err / (bound + 1e-300) : INFINITY;
        if (ratio > worst_ratio || worst.empty()) {
          worst_ratio = ratio;
          worst = where(out, ref.rows[ri], j) + " = " + std::to_string(g) + ", expected " + std::to_string(r);
        }
      }
      ss_err += std::isfinite(err) ? err * err : INFINITY;
    }
  }
  c.rel_l2 = ss_ref > 0 ? std::sqrt(ss_err / ss_ref) : std::sqrt(ss_err);
  if (!worst.empty()) {
    c.ok = false;
    c.failure = FailureKind::wrong_values;
    c.detail = worst + " (rel_l2 " + std::to_string(c.rel_l2) + ")";
  } else if (!(c.rel_l2 <= tol.max_rel_l2)) {
    c.ok = false;
    c.failure = FailureKind::wrong_values;
    c.detail = "rel_l2 " + std::to_string(c.rel_l2) + " > tolerance " + std::to_string(tol.max_rel_l2);
  }
  return c;
}

Comparison check_all_written(const TensorDesc& out, const std::vector<unsigned char>& got) {
  Comparison c;
  const int64_t n = rows_of(out) * cols_of(out);
  for (int64_t i = 0; i < n; ++i) {
    if (is_poison(out.dtype, got.data(), i)) {
      c.ok = false;
      c.failure = FailureKind::unwritten_output;
      c.detail = where(out, i / cols_of(out), i % cols_of(out)) + " was never written (still holds the NaN poison)";
      return c;
    }
  }
  return c;
}

}  // namespace tessel::harness
