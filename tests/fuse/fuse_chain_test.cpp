// Chain semantics on every ISA: row reductions (and chains of them), tails and one-column rows,
// both row strategies (stash and recompute), reads of every kind, quantizing writes, horizontal
// fusion, and results that do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "fuse_test_util.hpp"

namespace tessel::fuse::test {
namespace {

const int64_t kCols[] = {1, 3, 15, 16, 17, 33, 100, 1031};

std::vector<float> random_rows(int64_t rows, int64_t cols, uint64_t seed, double lo = -3, double hi = 3) {
  std::vector<float> v(size_t(rows * cols));
  Rng rng{seed};
  for (float& f : v) f = float(rng.uniform(lo, hi));
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double rel, double abs,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(double(got[i]) - want[i]), rel * std::fabs(want[i]) + abs) << what << " at " << i;
}

// A user row op: y = x * s, s being the row statistic.
struct TimesStat {
  template <class V>
  TESSEL_HOST_DEVICE void operator()(V& y, const V& x, float s) const {
    y = x * s;
  }
};

class Chains : public PerIsa {};

TEST_P(Chains, RowStatisticsMatchDouble) {
  for (int64_t cols : kCols) {
    const int64_t rows = 5;
    const auto x = random_rows(rows, cols, uint64_t(cols));
    std::vector<float> ys(x.size()), ym(x.size()), yq(x.size()), yx(x.size()), ya(x.size());
    const auto src = read<f32>(x.data(), cols);
    cpu::run(chain(src, row<stat::Sum>(TimesStat{}), write<f32>(ys.data(), cols)), rows, cols, opts());
    cpu::run(chain(src, row<stat::Mean>(TimesStat{}), write<f32>(ym.data(), cols)), rows, cols, opts());
    cpu::run(chain(src, row<stat::MeanSquare>(TimesStat{}), write<f32>(yq.data(), cols)), rows, cols, opts());
    cpu::run(chain(src, row<stat::Max>(TimesStat{}), write<f32>(yx.data(), cols)), rows, cols, opts());
    cpu::run(chain(src, row<stat::AbsMax>(TimesStat{}), write<f32>(ya.data(), cols)), rows, cols, opts());
    std::vector<double> ws(x.size()), wm(x.size()), wq(x.size()), wx(x.size()), wa(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0, sq = 0, mx = -1e300, amax = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const double v = x[size_t(r * cols + j)];
        sum += v;
        sq += v * v;
        mx = std::max(mx, v);
        amax = std::max(amax, std::fabs(v));
      }
      for (int64_t j = 0; j < cols; ++j) {
        const size_t i = size_t(r * cols + j);
        ws[i] = x[i] * sum;
        wm[i] = x[i] * (sum / double(cols));
        wq[i] = x[i] * (sq / double(cols));
        wx[i] = x[i] * mx;
        wa[i] = x[i] * amax;
      }
    }
    // Sums cancel: their error is relative to the sum of |x|, about 3 * cols here.
    expect_close(ys, ws, 1e-6, 1e-6 * 3.0 * double(cols) * 3.0, "sum cols=" + std::to_string(cols));
    expect_close(ym, wm, 1e-6, 1e-5, "mean cols=" + std::to_string(cols));
    expect_close(yq, wq, 1e-6, 1e-6, "mean square cols=" + std::to_string(cols));
    expect_close(yx, wx, 1e-7, 0, "max cols=" + std::to_string(cols));  // one rounding of the product
    expect_close(ya, wa, 1e-7, 0, "abs max cols=" + std::to_string(cols));
  }
}

// LayerNorm (two reductions: three passes) and softmax (online statistics), against double; the
// long row (past kStashCols) takes the recompute strategy, the others the stash.
TEST_P(Chains, LayerNormAndSoftmaxBothStrategies) {
  for (int64_t cols : {int64_t(1), int64_t(17), int64_t(1031), cpu::detail::kStashCols + 129}) {
    const int64_t rows = cols > 10000 ? 2 : 4;
    const auto x = random_rows(rows, cols, 99 + uint64_t(cols), -4, 6);
    std::vector<float> ln(x.size()), sm(x.size());
    cpu::run(chain(read<f32>(x.data(), cols), center(), rms_scale(1e-5f), write<f32>(ln.data(), cols)), rows, cols,
             opts());
    cpu::run(chain(read<f32>(x.data(), cols), softmax(), write<f32>(sm.data(), cols)), rows, cols, opts());
    // Softmax as two reductions (the CUDA runner's form for rows in registers): same values.
    std::vector<float> sm2(x.size());
    cpu::run(chain(read<f32>(x.data(), cols), exp_minus_max(), normalize_sum(), write<f32>(sm2.data(), cols)), rows,
             cols, opts());
    std::vector<double> wl(x.size()), ws(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x.data() + r * cols;
      double mean = 0, var = 0, mx = -1e300, sum = 0;
      for (int64_t j = 0; j < cols; ++j) mean += xr[j], mx = std::max(mx, double(xr[j]));
      mean /= double(cols);
      for (int64_t j = 0; j < cols; ++j) var += (xr[j] - mean) * (xr[j] - mean), sum += std::exp(xr[j] - mx);
      var /= double(cols);
      for (int64_t j = 0; j < cols; ++j) {
        wl[size_t(r * cols + j)] = (xr[j] - mean) / std::sqrt(var + 1e-5);
        ws[size_t(r * cols + j)] = std::exp(xr[j] - mx) / sum;
      }
    }
    expect_close(ln, wl, 2e-6, 2e-6, "layernorm cols=" + std::to_string(cols));
    expect_close(sm, ws, 4e-6, 1e-9, "softmax cols=" + std::to_string(cols));
    expect_close(sm2, ws, 4e-6, 1e-9, "exp_minus_max, normalize_sum cols=" + std::to_string(cols));
  }
}

// Options::stash_cols picks the strategy: a map before the reduction runs once per vector of a row
// that takes the stash and once per pass when the row recomputes, with the same bits out.
struct CountCalls {
  int64_t* calls;
  template <class V>
  void operator()(V& y, const V& x) const {
    ++*calls;
    y = x;
  }
};
TEST_P(Chains, StashColsPicksTheStrategy) {
  const int64_t rows = 3, cols = 1031;
  const auto x = random_rows(rows, cols, 5, -4, 6);
  auto run_with = [&](int64_t stash_cols, std::vector<float>& y) {
    int64_t calls = 0;
    cpu::Options o = opts(1);
    o.stash_cols = stash_cols;
    y.assign(x.size(), 0.0f);
    cpu::run(chain(read<f32>(x.data(), cols), map(CountCalls{&calls}), rms_scale(1e-5f), write<f32>(y.data(), cols)),
             rows, cols, o);
    return calls;
  };
  std::vector<float> stashed_y, recomputed_y;
  const int64_t stashed = run_with(cols, stashed_y), recomputed = run_with(cols - 1, recomputed_y);
  EXPECT_GE(stashed, rows * ((cols + 15) / 16));
  EXPECT_EQ(recomputed, 2 * stashed);
  EXPECT_EQ(0, std::memcmp(stashed_y.data(), recomputed_y.data(), x.size() * sizeof(float)));
}

// Softmax's online statistics rescale only when a lane's max grows: rows whose max grows at every
// vector (ascending), never after the first (descending), and once far into the row (a jump of 30
// at column 700), against double, at a length that fits the stash and one that takes the online form.
TEST_P(Chains, SoftmaxWhereverTheMaxGrows) {
  for (int64_t cols : {int64_t(1031), cpu::detail::kStashCols + 129}) {
    const int64_t rows = 3;
    std::vector<float> x(size_t(rows * cols));
    for (int64_t j = 0; j < cols; ++j) {
      const float t = float(j % 1031) / 64.0f;
      x[size_t(j)] = t;                                   // ascending (within each 1031)
      x[size_t(cols + j)] = -t;                           // descending
      x[size_t(2 * cols + j)] = (j >= 700 ? 30.0f : 0.0f) + std::sin(float(j));  // one late jump
    }
    std::vector<float> sm(x.size());
    cpu::run(chain(read<f32>(x.data(), cols), softmax(), write<f32>(sm.data(), cols)), rows, cols, opts());
    std::vector<double> ws(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x.data() + r * cols;
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, double(xr[j]));
      for (int64_t j = 0; j < cols; ++j) sum += std::exp(double(xr[j]) - mx);
      for (int64_t j = 0; j < cols; ++j) ws[size_t(r * cols + j)] = std::exp(double(xr[j]) - mx) / sum;
    }
    expect_close(sm, ws, 4e-6, 1e-9, "softmax (max growth) cols=" + std::to_string(cols));
  }
}

// A write before a reduction (a tee) stores what flows there, in the pass that computes it.
TEST_P(Chains, TeeBeforeAReductionAndCast) {
  const int64_t rows = 3, cols = 37;
  const auto a = random_rows(rows, cols, 1), b = random_rows(rows, cols, 2);
  std::vector<uint16_t> ab(a.size()), bb(b.size()), h(a.size()), y(a.size());
  for (size_t i = 0; i < a.size(); ++i) ab[i] = f32_to_bf16(a[i]), bb[i] = f32_to_bf16(b[i]);
  cpu::run(chain(read<bf16>(ab.data(), cols), add(read<bf16>(bb.data(), cols)), cast<bf16>(),
                 write<bf16>(h.data(), cols), rms_scale(1e-6f), write<bf16>(y.data(), cols)),
           rows, cols, opts());
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const size_t i = size_t(r * cols + j);
      const float hv = bf16_to_f32(f32_to_bf16(bf16_to_f32(ab[i]) + bf16_to_f32(bb[i])));
      ASSERT_EQ(h[i], f32_to_bf16(hv)) << i;
      ss += double(hv) * hv;
    }
    for (int64_t j = 0; j < cols; ++j) {
      const size_t i = size_t(r * cols + j);
      const double want = bf16_to_f32(h[i]) / std::sqrt(ss / double(cols) + 1e-6);
      ASSERT_NEAR(bf16_to_f32(y[i]), want, std::fabs(want) * 0x1p-8 + 1e-7) << i;
    }
  }
}

// Strided, broadcast and per-row reads; a chain of reads and maps as a zip operand; dequantizing
// reads of int8 and fp8 with per-row and per-tensor scales.
TEST_P(Chains, ReadsOfEveryKind) {
  const int64_t rows = 6, cols = 21;
  const auto x = random_rows(cols, rows, 5);  // stored transposed: [cols, rows]
  const auto w = random_rows(1, cols, 6);
  const auto s = random_rows(rows, 1, 7, 0.5, 2);
  std::vector<float> y(size_t(rows * cols));
  cpu::run(chain(read_strided<f32>(x.data(), 1, rows), mul(read_bcast<f32>(w.data())), mul(read_col<f32>(s.data())),
                 zip(fn::Add{}, chain(read_strided<f32>(x.data(), 1, rows), relu())), write<f32>(y.data(), cols)),
           rows, cols, opts());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      const float xv = x[size_t(j * rows + r)];
      const float want = xv * w[size_t(j)] * s[size_t(r)] + std::max(xv, 0.0f);
      ASSERT_NEAR(y[size_t(r * cols + j)], want, 1e-6f * (std::fabs(want) + 1)) << r << "," << j;
    }
  std::vector<int8_t> q8(size_t(rows * cols));
  std::vector<uint8_t> q4(size_t(rows * cols));
  for (size_t i = 0; i < q8.size(); ++i)
    q8[i] = int8_t(int(i * 37 % 255) - 127), q4[i] = uint8_t(i * 91 % 256 == 0x7f ? 0 : i * 91 % 256);
  for (size_t i = 0; i < q4.size(); ++i)
    if ((q4[i] & 0x7f) == 0x7f) q4[i] = 0x10;
  std::vector<float> d8(q8.size()), d4(q4.size());
  const float tensor_scale = 0.25f;
  cpu::run(chain(read_dequant<i8>(q8.data(), cols, s.data()), write<f32>(d8.data(), cols)), rows, cols, opts());
  cpu::run(chain(read_dequant<e4m3>(q4.data(), cols, &tensor_scale, 0), write<f32>(d4.data(), cols)), rows, cols,
           opts());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      const size_t i = size_t(r * cols + j);
      ASSERT_EQ(d8[i], float(q8[i]) * s[size_t(r)]);
      ASSERT_EQ(d4[i], e4m3_bits_to_f32(q4[i]) * tensor_scale);
    }
}

// One row of an e4m3 and an int8 quantizing write against the row's exact values y: the scales are
// max|y| / qmax within `scale_rel`, and each code is round(y / scale) within half a step, or one
// step when y / scale sits (nearly) on a midpoint; a zero row gets scale 0 and q 0.
void expect_quantized_row(const std::vector<double>& y, const uint8_t* q, const int8_t* q8, float s, float s8,
                          double scale_rel, const std::string& what) {
  double amax = 0;
  for (double v : y) amax = std::max(amax, std::fabs(v));
  ASSERT_NEAR(s, amax / 448.0, scale_rel * amax / 448.0) << what;
  ASSERT_NEAR(s8, amax / 127.0, scale_rel * amax / 127.0) << what;
  for (size_t j = 0; j < y.size(); ++j) {
    if (amax == 0) {
      ASSERT_EQ(q[j], 0) << what;
      ASSERT_EQ(q8[j], 0) << what;
      continue;
    }
    const double exact = y[j] / (amax / 448.0), exact8 = y[j] / (amax / 127.0);
    const double step = std::max(std::ldexp(1.0, std::ilogb(std::max(std::fabs(exact), 0x1p-6)) - 3), 0x1p-9);
    ASSERT_LE(std::fabs(e4m3_bits_to_f32(q[j]) - exact), 0.5 * step * (1 + 1e-5)) << what << ": e4m3 at " << j;
    ASSERT_LE(std::fabs(double(q8[j]) - exact8), 0.5 + 1e-4) << what << ": i8 at " << j;
  }
}

// Quantizing writes: the scale is max|y| / qmax to f32 precision, and q is round(y / scale) up to
// one step at a midpoint; a zero row gets scale 0 and q 0.
TEST_P(Chains, QuantizingWrite) {
  for (int64_t cols : kCols) {
    const int64_t rows = 4;
    auto x = random_rows(rows, cols, 11 + uint64_t(cols), -5, 5);
    for (int64_t j = 0; j < cols; ++j) x[size_t(2 * cols + j)] = 0.0f;  // row 2: all zero
    std::vector<uint8_t> q(x.size());
    std::vector<int8_t> q8(x.size());
    std::vector<float> s(static_cast<size_t>(rows)), s8(static_cast<size_t>(rows));
    cpu::run(chain(read<f32>(x.data(), cols), write_quant<e4m3>(q.data(), cols, s.data())), rows, cols, opts());
    cpu::run(chain(read<f32>(x.data(), cols), write_quant<i8>(q8.data(), cols, s8.data())), rows, cols, opts());
    for (int64_t r = 0; r < rows; ++r) {
      const std::vector<double> y(x.begin() + r * cols, x.begin() + (r + 1) * cols);
      expect_quantized_row(y, &q[size_t(r * cols)], &q8[size_t(r * cols)], s[size_t(r)], s8[size_t(r)], 1e-7,
                           "row " + std::to_string(r) + " of " + std::to_string(cols) + " columns");
    }
  }
}

// write_quant_rms from v = x * w gives what write_quant gives for rmsnorm(x) * w: the scale is
// max|y| / qmax (f32-tight) with y = x / rms(x) * w in double, and each code is round(y / scale) up
// to one step at a midpoint. Both row strategies (the last length recomputes), a zero row, and a
// row 1000 times another, whose scale rmsnorm leaves unchanged: a scale missing the 1 / rms factor
// would be 1000 times larger.
TEST_P(Chains, RmsQuantizingWrite) {
  for (int64_t cols : {int64_t{1}, int64_t{3}, int64_t{17}, int64_t{100}, int64_t{1031}, cpu::detail::kStashCols + 129}) {
    const int64_t rows = 4;
    auto x = random_rows(rows, cols, 31 + uint64_t(cols), -5, 5);
    const auto w = random_rows(1, cols, 32 + uint64_t(cols), 0.1, 2);
    for (int64_t j = 0; j < cols; ++j) x[size_t(2 * cols + j)] = 0.0f;                     // row 2: all zero
    for (int64_t j = 0; j < cols; ++j) x[size_t(3 * cols + j)] = 1000.0f * x[size_t(j)];  // row 3: 1000 x row 0
    const float eps = 1e-5f;
    std::vector<uint8_t> q(x.size());
    std::vector<int8_t> q8(x.size());
    std::vector<float> s(size_t(rows), -1.0f), s8(size_t(rows), -1.0f);
    const auto src = read<f32>(x.data(), cols);
    const auto wr = mul(read_bcast<f32>(w.data()));
    cpu::run(chain(src, wr, write_quant_rms<e4m3>(q.data(), cols, s.data(), src, eps)), rows, cols, opts());
    cpu::run(chain(src, wr, write_quant_rms<i8>(q8.data(), cols, s8.data(), src, eps)), rows, cols, opts());
    for (int64_t r = 0; r < rows; ++r) {
      double sq = 0;
      for (int64_t j = 0; j < cols; ++j) sq += double(x[size_t(r * cols + j)]) * x[size_t(r * cols + j)];
      const double inv_rms = 1.0 / std::sqrt(sq / double(cols) + eps);
      std::vector<double> y(static_cast<size_t>(cols));
      for (int64_t j = 0; j < cols; ++j) y[size_t(j)] = double(x[size_t(r * cols + j)]) * inv_rms * w[size_t(j)];
      expect_quantized_row(y, &q[size_t(r * cols)], &q8[size_t(r * cols)], s[size_t(r)], s8[size_t(r)], 1e-6,
                           "row " + std::to_string(r) + " of " + std::to_string(cols) + " columns");
    }
  }
}

// N independent instances (different element types, sizes and chains) in one parallel_for give
// exactly what separate runs give.
TEST_P(Chains, HorizontalFusionEqualsSeparateRuns) {
  const auto a = random_rows(7, 33, 21), b = random_rows(5, 1000, 22), c = random_rows(300, 1, 23);
  std::vector<uint16_t> bb(b.size());
  for (size_t i = 0; i < b.size(); ++i) bb[i] = f32_to_bf16(b[i]);
  std::vector<float> ya(a.size()), yc(c.size()), ya2(a.size()), yc2(c.size());
  std::vector<uint16_t> yb(b.size()), yb2(b.size());
  const auto ca = chain(read<f32>(a.data(), 33), rms_scale(1e-6f), write<f32>(ya.data(), 33));
  const auto cb = chain(read<bf16>(bb.data(), 1000), silu(), write<bf16>(yb.data(), 1000));
  const auto cc = chain(read<f32>(c.data(), 1), softmax(), write<f32>(yc.data(), 1));
  cpu::run_many(opts(), cpu::instance(ca, 7, 33), cpu::instance(cb, 5, 1000), cpu::instance(cc, 300, 1));
  cpu::run(chain(read<f32>(a.data(), 33), rms_scale(1e-6f), write<f32>(ya2.data(), 33)), 7, 33, opts());
  cpu::run(chain(read<bf16>(bb.data(), 1000), silu(), write<bf16>(yb2.data(), 1000)), 5, 1000, opts());
  cpu::run(chain(read<f32>(c.data(), 1), softmax(), write<f32>(yc2.data(), 1)), 300, 1, opts());
  EXPECT_EQ(ya, ya2);
  EXPECT_EQ(yb, yb2);
  EXPECT_EQ(yc, yc2);
  for (float v : yc) EXPECT_EQ(v, 1.0f);  // softmax of one element
}

// Rows never straddle threads, and every row runs the same code: results are bitwise the same for
// any thread count.
TEST_P(Chains, SameBitsForAnyThreadCount) {
  const int64_t rows = 257, cols = 333;
  const auto x = random_rows(rows, cols, 31);
  std::vector<float> y1(x.size()), y2(x.size());
  const auto op = [&](float* y) {
    return chain(read<f32>(x.data(), cols), center(), rms_scale(1e-5f), gelu_tanh(), write<f32>(y, cols));
  };
  cpu::run(op(y1.data()), rows, cols, opts(1));
  cpu::run(op(y2.data()), rows, cols, opts(0));
  EXPECT_EQ(y1, y2);
}

INSTANTIATE_TEST_SUITE_P(Isa, Chains, ::testing::ValuesIn(all_isas()), isa_test_name);

}  // namespace
}  // namespace tessel::fuse::test
