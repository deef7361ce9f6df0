// Quantizing f32 weights into every tessel format, and measuring what it costs (RMSE, SQNR).
#include "tessel/quant/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "tessel/cpu/parallel.hpp"

namespace tessel::quant {
namespace {

// Stores x (rounded to the scale dtype) at element i of a raw scale buffer and returns the stored value.
double store_scale(DType t, std::vector<uint8_t>& buf, int64_t i, double x) {
  store_from_double(t, buf.data(), i, x);
  return load_as_double(t, buf.data(), i);
}

double rne(double x) { return std::nearbyint(x); }  // the default rounding mode: to nearest, ties to even

// One group of one row: values in, codes (one per byte) and the stored scale (and zero) out.
struct Group {
  const float* v;
  int64_t len;
  uint8_t* codes;
};

// ---- int (symmetric) -----------------------------------------------------------------------------------

// Codes for scale s; returns the squared error, and the least-squares refit scale in *refit.
double int_codes(const Group& g, double s, int bits, uint8_t* codes, double* refit) {
  const int qmin = bits == 1 ? -1 : -(1 << (bits - 1)), qmax = bits == 1 ? 1 : (1 << (bits - 1)) - 1;
  double sse = 0, vq = 0, qq = 0;
  for (int64_t i = 0; i < g.len; ++i) {
    double q = bits == 1 ? (g.v[i] >= 0 ? 1 : -1) : std::clamp(rne(g.v[i] / s), double(qmin), double(qmax));
    const double e = g.v[i] - s * q;
    sse += e * e;
    vq += g.v[i] * q;
    qq += q * q;
    const int qi = int(q);
    codes[i] = bits == 1 ? uint8_t(qi > 0) : uint8_t(qi & ((1 << bits) - 1));
  }
  if (refit) *refit = qq > 0 ? vq / qq : s;
  return sse;
}

void quantize_int(const Group& g, int bits, DType sdt, std::vector<uint8_t>& scales, int64_t si) {
  double amax = 0, vmax = 0;
  for (int64_t i = 0; i < g.len; ++i)
    if (std::fabs(g.v[i]) > amax) {
      amax = std::fabs(g.v[i]);
      vmax = g.v[i];
    }
  if (amax == 0) {
    store_scale(sdt, scales, si, 0.0);
    for (int64_t i = 0; i < g.len; ++i) g.codes[i] = uint8_t(bits == 1 ? 1 : 0);
    return;
  }
  if (bits == 1) {
    double sum = 0;
    for (int64_t i = 0; i < g.len; ++i) sum += std::fabs(g.v[i]);
    const double s = store_scale(sdt, scales, si, sum / double(g.len));
    int_codes(g, s == 0 ? 1 : s, 1, g.codes, nullptr);
    return;
  }
  const int qmax = (1 << (bits - 1)) - 1, qmin = -(1 << (bits - 1));
  std::vector<uint8_t> trial(static_cast<size_t>(g.len));
  double best_sse = std::numeric_limits<double>::infinity(), best_s = 0;
  // Candidates: the largest magnitude mapped to qmax or (with a negative scale) to qmin, each
  // shrunk a little (clipping outliers often lowers the error), each refit by least squares.
  for (int side = 0; side < 2; ++side) {
    for (double f = 1.0; f > 0.74; f -= 0.05) {
      const double s0 = side == 0 ? f * amax / qmax : f * vmax / qmin;
      for (int pass = 0; pass < 2; ++pass) {
        double s = dtype_round(sdt, s0), refit = 0;
        if (pass == 1) {
          int_codes(g, s == 0 ? s0 : s, bits, trial.data(), &refit);
          s = dtype_round(sdt, refit);
        }
        if (s == 0 || !std::isfinite(s)) continue;
        const double sse = int_codes(g, s, bits, trial.data(), nullptr);
        if (sse < best_sse) {
          best_sse = sse;
          best_s = s;
          std::memcpy(g.codes, trial.data(), trial.size());
        }
      }
    }
  }
  store_scale(sdt, scales, si, best_s);
}

// ---- ternary -------------------------------------------------------------------------------------------

double ternary_codes(const Group& g, double s, uint8_t* codes, double* refit) {
  double sse = 0, vq = 0, qq = 0;
  for (int64_t i = 0; i < g.len; ++i) {
    const double q = std::clamp(rne(g.v[i] / s), -1.0, 1.0);
    const double e = g.v[i] - s * q;
    sse += e * e;
    vq += g.v[i] * q;
    qq += q * q;
    codes[i] = q > 0 ? 0b01 : q < 0 ? 0b10 : 0b00;  // w = bit0 - bit1
  }
  if (refit) *refit = qq > 0 ? vq / qq : s;
  return sse;
}

void quantize_ternary(const Group& g, DType sdt, std::vector<uint8_t>& scales, int64_t si) {
  double amax = 0;
  for (int64_t i = 0; i < g.len; ++i) amax = std::max(amax, double(std::fabs(g.v[i])));
  for (int64_t i = 0; i < g.len; ++i) g.codes[i] = 0;
  if (amax == 0) {
    store_scale(sdt, scales, si, 0.0);
    return;
  }
  std::vector<uint8_t> trial(static_cast<size_t>(g.len));
  double best_sse = std::numeric_limits<double>::infinity(), best_s = 0;
  for (double f = 0.2; f < 1.01; f += 0.05) {
    double refit = 0;
    ternary_codes(g, f * amax, trial.data(), &refit);
    const double s = dtype_round(sdt, refit);
    if (s == 0 || !std::isfinite(s)) continue;
    const double sse = ternary_codes(g, s, trial.data(), nullptr);
    if (sse < best_sse) {
      best_sse = sse;
      best_s = s;
      std::memcpy(g.codes, trial.data(), trial.size());
    }
  }
  store_scale(sdt, scales, si, best_s);
}

// ---- uint (asymmetric) -------------------------------------------------------------------------------------

double uint_codes(const Group& g, double s, double z, int bits, uint8_t* codes) {
  const double qmax = double((1 << bits) - 1);
  double sse = 0;
  for (int64_t i = 0; i < g.len; ++i) {
    const double q = std::clamp(rne(g.v[i] / s + z), 0.0, qmax);
    const double e = g.v[i] - s * (q - z);
    sse += e * e;
    codes[i] = uint8_t(q);
  }
  return sse;
}

void quantize_uint(const Group& g, int bits, DType sdt, std::vector<uint8_t>& scales, std::vector<uint8_t>& zeros,
                   int64_t si) {
  double lo = g.v[0], hi = g.v[0];
  for (int64_t i = 1; i < g.len; ++i) {
    lo = std::min(lo, double(g.v[i]));
    hi = std::max(hi, double(g.v[i]));
  }
  const double levels = double((1 << bits) - 1);
  if (hi == lo) {
    // A constant group: code 0 with z = -v/s reproduces it (exactly when the dtype holds it).
    const double s = store_scale(sdt, scales, si, lo == 0 ? 1.0 : std::fabs(lo));
    store_scale(sdt, zeros, si, -lo / s);
    for (int64_t i = 0; i < g.len; ++i) g.codes[i] = 0;
    return;
  }
  std::vector<uint8_t> trial(static_cast<size_t>(g.len));
  double best_sse = std::numeric_limits<double>::infinity(), best_s = 1, best_z = 0;
  const double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
  for (double f = 1.0; f > 0.74; f -= 0.05) {
    const double a = mid - f * half, b = mid + f * half;
    double s = dtype_round(sdt, (b - a) / levels);
    if (s == 0) continue;
    double z = dtype_round(sdt, -a / s);
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 1) {
        // Least squares for w ~ s*q + c with these codes, then z = -c/s.
        uint_codes(g, s, z, bits, trial.data());
        double mq = 0, mv = 0;
        for (int64_t i = 0; i < g.len; ++i) {
          mq += trial[size_t(i)];
          mv += g.v[i];
        }
        mq /= double(g.len);
        mv /= double(g.len);
        double cov = 0, var = 0;
        for (int64_t i = 0; i < g.len; ++i) {
          cov += (trial[size_t(i)] - mq) * (g.v[i] - mv);
          var += (trial[size_t(i)] - mq) * (trial[size_t(i)] - mq);
        }
        if (var <= 0 || cov <= 0) continue;
        s = dtype_round(sdt, cov / var);
        if (s == 0) continue;
        z = dtype_round(sdt, -(mv - s * mq) / s);
      }
      if (!std::isfinite(s) || !std::isfinite(z)) continue;
      const double sse = uint_codes(g, s, z, bits, trial.data());
      if (sse < best_sse) {
        best_sse = sse;
        best_s = s;
        best_z = z;
        std::memcpy(g.codes, trial.data(), trial.size());
      }
    }
  }
  store_scale(sdt, scales, si, best_s);
  store_scale(sdt, zeros, si, best_z);
}

// ---- Block formats ------------------------------------------------------------------------------------------

int floor_log2(double a) {
  int e = 0;
  std::frexp(a, &e);  // a = f * 2^e with f in [0.5, 1)
  return e - 1;
}

void quantize_mx(const Group& g, Scheme scheme, std::vector<uint8_t>& scales, int64_t si) {
  double amax = 0;
  for (int64_t i = 0; i < g.len; ++i) amax = std::max(amax, double(std::fabs(g.v[i])));
  // OCP MX v1.0, section 6.3: shared exponent = floor(log2(amax)) - emax of the element type.
  const int emax = scheme == Scheme::mxfp4 ? 2 : 0;
  const int e = amax == 0 ? -127 : std::clamp(floor_log2(amax) - emax, -127, 127);
  scales[size_t(si)] = uint8_t(e + 127);
  for (int64_t i = 0; i < g.len; ++i) {
    const double x = std::ldexp(double(g.v[i]), -e);
    if (scheme == Scheme::mxfp4) g.codes[i] = double_to_e2m1(x);
    else g.codes[i] = uint8_t(int8_t(std::clamp(rne(x * 64), -127.0, 127.0)));
  }
}

void quantize_nvfp4(const Group& g, double global, std::vector<uint8_t>& scales, int64_t si) {
  double amax = 0;
  for (int64_t i = 0; i < g.len; ++i) amax = std::max(amax, double(std::fabs(g.v[i])));
  scales[size_t(si)] = f32_to_e4m3_bits(float(amax / 6.0 / global));
  const double eff = double(e4m3_bits_to_f32(scales[size_t(si)])) * global;
  for (int64_t i = 0; i < g.len; ++i) g.codes[i] = eff > 0 ? double_to_e2m1(g.v[i] / eff) : 0;
}

}  // namespace

double PackedMatrix::bits_per_weight() const {
  const double bytes = double(weights.size() + scales.size() + zeros.size()) + (fmt.has_global_scale() ? 4.0 : 0.0);
  return n * k > 0 ? 8.0 * bytes / double(n * k) : 0.0;
}

QuantReport measure_error(const float* a, const float* b, int64_t count) {
  QuantReport r;
  double ss = 0, se = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double e = double(a[i]) - double(b[i]);
    ss += double(a[i]) * double(a[i]);
    se += e * e;
    r.max_abs_error = std::max(r.max_abs_error, std::fabs(e));
  }
  r.rmse = count > 0 ? std::sqrt(se / double(count)) : 0;
  r.sqnr_db = se > 0 ? 10 * std::log10(ss / se) : std::numeric_limits<double>::infinity();
  r.rel_l2 = ss > 0 ? std::sqrt(se / ss) : std::sqrt(se);
  return r;
}

std::vector<float> dequantize(const PackedMatrix& m) {
  std::vector<float> out(size_t(m.n * m.k));
  const PackedView v = m.view();
  cpu::parallel_for(m.n, 0, [&](int64_t r0, int64_t r1) {
    std::vector<double> row(static_cast<size_t>(m.k));
    for (int64_t r = r0; r < r1; ++r) {
      dequantize_row(m.fmt, m.n, m.k, v, r, row.data());
      for (int64_t c = 0; c < m.k; ++c) out[size_t(r * m.k + c)] = float(row[size_t(c)]);
    }
  });
  return out;
}

Result<PackedMatrix> quantize(const Format& fmt, const float* w, int64_t n, int64_t k, QuantReport* report) {
  TESSEL_RETURN_IF_ERROR(fmt.validate());
  if (n < 1 || k < 1) return Status::invalid("quantize", "shape", "needs at least one row and one column");
  double amax = 0;
  for (int64_t i = 0; i < n * k; ++i) {
    if (!std::isfinite(w[i]))
      return Status::invalid("quantize", "weights", "non-finite value at row " + std::to_string(i / k) + ", column " +
                                                        std::to_string(i % k));
    amax = std::max(amax, double(std::fabs(w[i])));
  }
  PackedMatrix m;
  m.fmt = fmt;
  m.n = n;
  m.k = k;
  const Shapes s = shapes(fmt, n, k);
  m.weights.assign(size_t(s.weight_bytes), 0);
  m.scales.assign(dtype_storage_bytes(fmt.scale_dtype, s.scale_count), 0);
  if (fmt.has_zeros()) m.zeros.assign(dtype_storage_bytes(fmt.scale_dtype, s.zero_count), 0);
  // NVFP4's per-tensor scale puts the largest block scale at the top of e4m3's range.
  if (fmt.has_global_scale()) m.global_scale = amax > 0 ? float(amax / (448.0 * 6.0)) : 1.0f;
  if (m.global_scale == 0 || !std::isfinite(m.global_scale)) m.global_scale = 1.0f;

  const int64_t len = fmt.group_len(k), groups = fmt.groups(k);
  // Rows are independent, and no stored byte holds codes of two rows, so rows run in parallel.
  cpu::parallel_for(n, 0, [&](int64_t r0, int64_t r1) {
    std::vector<uint8_t> codes(static_cast<size_t>(k));
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t c0 = g * len, c1 = std::min(k, c0 + len);
        const Group grp{w + r * k + c0, c1 - c0, codes.data() + c0};
        const int64_t si = scale_index(fmt, k, r, g);
        switch (fmt.scheme) {
          case Scheme::int_sym: quantize_int(grp, fmt.bits, fmt.scale_dtype, m.scales, si); break;
          case Scheme::int_asym: quantize_uint(grp, fmt.bits, fmt.scale_dtype, m.scales, m.zeros, si); break;
          case Scheme::ternary:
          case Scheme::ternary5: quantize_ternary(grp, fmt.scale_dtype, m.scales, si); break;
          case Scheme::mxfp4:
          case Scheme::mxint8: quantize_mx(grp, fmt.scheme, m.scales, si); break;
          case Scheme::nvfp4: quantize_nvfp4(grp, m.global_scale, m.scales, si); break;
        }
      }
      for (int64_t c = 0; c < k; ++c) set_code(fmt, n, k, m.weights.data(), r, c, codes[size_t(c)]);
    }
  });
  if (report) {
    const std::vector<float> dq = dequantize(m);
    *report = measure_error(w, dq.data(), n * k);
    report->bits_per_weight = m.bits_per_weight();
  }
  return m;
}

}  // namespace tessel::quant
