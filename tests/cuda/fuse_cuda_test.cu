// The CUDA fusion runner (include/tessel/fuse/cuda.hpp) on the device: rows held in registers across
// several reductions at every group size, on the vector path (DVecF) and the float path (odd row
// lengths, misaligned inputs), the long-row recompute kernel, column tiles of chains without
// reductions, short rows four to a group, softmax as two reductions, writes before a reduction
// (the split of a pass at its first store), horizontal fusion of two instances in one launch,
// quantizing writes (int8 edge rows, rmsnorm's folded scale), and out-of-bounds guards. Skips
// without a GPU.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "cuda_test_util.cuh"
#include "tessel/core/dtype.hpp"
#include "tessel/fuse/cuda.hpp"
#include "tessel/fuse/fuse.hpp"

namespace {

namespace fz = tessel::fuse;
namespace fc = tessel::fuse::cuda;

constexpr float kGuard = 12345.0f;
constexpr int64_t kPad = 64;  // guard elements after every output

// A device buffer of n floats plus guards, copied from / to host vectors.
struct DevBuf {
  float* p = nullptr;
  int64_t n = 0;
  explicit DevBuf(int64_t count) : n(count) {
    EXPECT_EQ(cudaMalloc(&p, size_t(n + kPad) * sizeof(float)), cudaSuccess);
    std::vector<float> g(size_t(n + kPad), kGuard);
    EXPECT_EQ(cudaMemcpy(p, g.data(), g.size() * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  }
  DevBuf(const std::vector<float>& h) : DevBuf(int64_t(h.size())) {
    EXPECT_EQ(cudaMemcpy(p, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DevBuf() { cudaFree(p); }
  std::vector<float> get() const {  // the data followed by the guards
    std::vector<float> h(size_t(n + kPad));
    EXPECT_EQ(cudaMemcpy(h.data(), p, h.size() * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    return h;
  }
};

std::vector<float> random_values(int64_t n, uint32_t seed, float offset = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(offset, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

void expect_guards(const std::vector<float>& h, int64_t n, const char* what) {
  for (int64_t i = n; i < n + kPad; ++i) ASSERT_EQ(h[size_t(i)], kGuard) << what << ": written past the end at " << i;
}

// h = x + r (written before the reductions), then layernorm of h without weights: three passes over
// the row in registers (or recomputed for long rows), with a store in the first.
// `shift` moves x one element off its allocation's alignment, which must turn the vector path off.
void check_residual_layernorm(int64_t rows, int64_t cols, bool shift = false) {
  const auto x = random_values(rows * cols, 1, 0.5f), r = random_values(rows * cols, 2);
  std::vector<float> xs(x);
  if (shift) xs.insert(xs.begin(), 0.0f);
  DevBuf dxs(xs), dr(r), dh(rows * cols), dy(rows * cols);
  const float* xp = dxs.p + (shift ? 1 : 0);
  const auto chain = fz::chain(fz::read<fz::f32>(xp, cols), fz::add(fz::read<fz::f32>(dr.p, cols)),
                               fz::write<fz::f32>(dh.p, cols), fz::center(), fz::rms_scale(1e-5f),
                               fz::write<fz::f32>(dy.p, cols));
  const bool vec = cols % fz::kDeviceLanes == 0 && cols <= fc::kStashCols && !shift;
  EXPECT_EQ(fc::uses_vectors(fc::instance(chain, rows, cols)), vec) << rows << "x" << cols;
  ASSERT_EQ(fc::run(nullptr, chain, rows, cols), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const auto h = dh.get(), y = dy.get();
  expect_guards(h, rows * cols, "h");
  expect_guards(y, rows * cols, "y");
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j) mean += double(x[size_t(i * cols + j)]) + r[size_t(i * cols + j)];
    mean /= double(cols);
    for (int64_t j = 0; j < cols; ++j) {
      const double d = double(x[size_t(i * cols + j)]) + r[size_t(i * cols + j)] - mean;
      var += d * d;
    }
    var /= double(cols);
    for (int64_t j = 0; j < cols; ++j) {
      const size_t k = size_t(i * cols + j);
      ASSERT_EQ(h[k], x[k] + r[k]) << "h at row " << i << " col " << j << " of " << rows << "x" << cols;
      const double want = (double(x[k]) + r[k] - mean) / std::sqrt(var + 1e-5);
      ASSERT_NEAR(y[k], want, 2e-5 * (1 + std::fabs(want))) << "y at row " << i << " col " << j << " of " << rows << "x"
                                                             << cols;
    }
  }
}

// The runner's multiply-and-shift division (host arithmetic, no GPU): every small divisor against a
// run of dividends, and edge divisors (powers of two and their neighbours, the largest) against the
// ends of the range and random dividends. A wrong magic number is off by one on some quotient.
TEST(FuseCuda, Divider31MatchesDivision) {
  const int64_t top = (int64_t{1} << 31) - 1;
  for (int64_t d = 1; d <= 3000; ++d) {
    const fc::Divider31 div(d);
    for (int64_t n = 0; n < 4 * d + 64; ++n) ASSERT_EQ(div(n), n / d) << n << " / " << d;
    for (int64_t n = top - 4 * d; n <= top; ++n) ASSERT_EQ(div(n), n / d) << n << " / " << d;
  }
  std::mt19937_64 rng(7);
  std::vector<int64_t> ds = {top, top - 1, 3, 7, 12345, 1000003};
  for (int l = 1; l < 31; ++l) ds.insert(ds.end(), {(int64_t{1} << l) - 1, int64_t{1} << l, (int64_t{1} << l) + 1});
  for (int64_t d : ds) {
    const fc::Divider31 div(d);
    for (int64_t n : {int64_t{0}, d - 1, d, d + 1, top - 1, top}) ASSERT_EQ(div(n), n / d) << n << " / " << d;
    for (int i = 0; i < 20000; ++i) {
      const int64_t n = int64_t(rng() % uint64_t(top + 1));
      ASSERT_EQ(div(n), n / d) << n << " / " << d;
    }
  }
}

// The vector path's quantizing stores (e4m3 two codes per conversion, int8 by the rounding add and
// byte permutes) against the core's conversions, on values that catch rounding and saturation: ties,
// both sides of the limits, infinities, NaN, and random floats.
TEST(FuseCuda, QuantizedStoresMatchTheCore) {
  TESSEL_REQUIRE_HOPPER();
  std::vector<float> x = {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 126.5f, -126.5f, 127.49f, 127.5f,
                          -127.5f, -128.0f, -128.5f, -129.0f, 200.0f, -1000.0f, 447.9f, 448.0f, 464.0f, -480.0f,
                          1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                          0.00195f, -0.0009765625f, 3.0e-3f};
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-140.0f, 140.0f);
  while (x.size() % 512 != 0) x.push_back(x.size() % 3 == 0 ? std::round(u(rng)) + 0.5f : u(rng));
  const int64_t cols = 512, rows = int64_t(x.size()) / cols;
  DevBuf dx(x);
  int8_t* q = nullptr;
  uint8_t* e = nullptr;
  ASSERT_EQ(cudaMalloc(&q, x.size()), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&e, x.size()), cudaSuccess);
  const auto c = fz::chain(fz::read<fz::f32>(dx.p, cols), fz::write<fz::i8>(q, cols), fz::write<fz::e4m3>(e, cols));
  EXPECT_TRUE(fc::uses_vectors(fc::instance(c, rows, cols)));
  ASSERT_EQ(fc::run(nullptr, c, rows, cols), cudaSuccess);
  std::vector<int8_t> hq(x.size());
  std::vector<uint8_t> he(x.size());
  ASSERT_EQ(cudaMemcpy(hq.data(), q, x.size(), cudaMemcpyDeviceToHost), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(he.data(), e, x.size(), cudaMemcpyDeviceToHost), cudaSuccess);
  cudaFree(q);
  cudaFree(e);
  for (size_t i = 0; i < x.size(); ++i) {
    int8_t wq = 0;
    uint8_t we = 0;
    tessel::store_from_double(tessel::DType::i8, &wq, 0, double(x[i]));
    tessel::store_from_double(tessel::DType::e4m3, &we, 0, double(x[i]));
    ASSERT_EQ(int(hq[i]), int(wq)) << "i8 of " << x[i] << " at " << i;
    if (!std::isnan(x[i])) ASSERT_EQ(int(he[i]), int(we)) << "e4m3 of " << x[i] << " at " << i;
  }
}

// write_quant<i8> on the vector path stores without a clamp where its own scale bounds the values
// (ops.hpp): its codes must equal the host's float model of the same arithmetic (inv = 127 / max|v|,
// q = round_even(v * inv), NaN to 0, saturated) on ordinary rows and on the edges: a NaN in a row, an
// infinity (inv 0: every code 0), a row so small that inv overflows (the clamped store: 127 or -128),
// and a row of zeros (scale 0).
TEST(FuseCuda, Int8QuantizingWriteEdgeRows) {
  TESSEL_REQUIRE_HOPPER();
  const int64_t cols = 512, rows = 6;
  std::vector<float> x = random_values(rows * cols, 21);
  for (int64_t j = 0; j < cols; ++j) x[size_t(cols + j)] *= 1000.0f;                          // row 1: large
  x[size_t(2 * cols + 17)] = std::numeric_limits<float>::quiet_NaN();                          // row 2: a NaN
  x[size_t(3 * cols + 300)] = std::numeric_limits<float>::infinity();                          // row 3: an infinity
  for (int64_t j = 0; j < cols; ++j) x[size_t(4 * cols + j)] = x[size_t(4 * cols + j)] * 1e-39f;  // row 4: inv overflows
  for (int64_t j = 0; j < cols; ++j) x[size_t(5 * cols + j)] = 0.0f;                           // row 5: zeros
  DevBuf dx(x), dscale(rows);
  int8_t* q = nullptr;
  ASSERT_EQ(cudaMalloc(&q, x.size()), cudaSuccess);
  const auto c = fz::chain(fz::read<fz::f32>(dx.p, cols), fz::write_quant<fz::i8>(q, cols, dscale.p));
  EXPECT_TRUE(fc::uses_vectors(fc::instance(c, rows, cols)));
  ASSERT_EQ(fc::run(nullptr, c, rows, cols), cudaSuccess);
  std::vector<int8_t> hq(x.size());
  ASSERT_EQ(cudaMemcpy(hq.data(), q, x.size(), cudaMemcpyDeviceToHost), cudaSuccess);
  cudaFree(q);
  const auto scale = dscale.get();
  std::vector<float> invs;
  for (int64_t i = 0; i < rows; ++i) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < cols; ++j) {
      const float a = std::fabs(x[size_t(i * cols + j)]);
      if (a > m) m = a;  // fmaxf drops NaN, as this does
    }
    const float want_scale = m / 127.0f;
    ASSERT_EQ(scale[size_t(i)], want_scale) << "scale of row " << i;
    const float inv = want_scale > 0.0f ? 127.0f / m : 0.0f;
    invs.push_back(inv);
    for (int64_t j = 0; j < cols; ++j) {
      const float v = x[size_t(i * cols + j)] * inv;
      const int want = std::isnan(v) ? 0 : int(std::nearbyint(std::min(std::max(v, -128.0f), 127.0f)));
      ASSERT_EQ(int(hq[size_t(i * cols + j)]), want) << "row " << i << " col " << j << ": " << x[size_t(i * cols + j)];
    }
  }
  EXPECT_TRUE(std::isinf(invs[4]) && scale[4] > 0.0f) << "row 4 must overflow inv, or it tests nothing";
  EXPECT_EQ(invs[3], 0.0f);  // the infinity's row
}

// write_quant_rms (rmsnorm_quant's quantizing write) against a double reference of rmsnorm(x) * w
// quantized to int8 per row, on the vector path, the float path (odd rows) and the long-row
// recompute kernel: the scale f32-tight, every code within half a step plus f32 rounding. Row 1 is
// 1000 times row 0, so a scale without the 1 / rms factor would be 1000 times too large there.
TEST(FuseCuda, RmsQuantizingWrite) {
  TESSEL_REQUIRE_HOPPER();
  for (int64_t cols : {int64_t{4096}, int64_t{1031}, fc::kStashCols + 8}) {
    const int64_t rows = 3;
    std::vector<float> x = random_values(rows * cols, 23);
    const std::vector<float> w = random_values(cols, 24, 1.0f);
    for (int64_t j = 0; j < cols; ++j) x[size_t(cols + j)] = 1000.0f * x[size_t(j)];
    for (int64_t j = 0; j < cols; ++j) x[size_t(2 * cols + j)] = 0.0f;
    DevBuf dx(x), dw(w), dscale(rows);
    int8_t* q = nullptr;
    ASSERT_EQ(cudaMalloc(&q, x.size()), cudaSuccess);
    const auto xr = fz::read<fz::f32>(dx.p, cols);
    const auto c = fz::chain(xr, fz::mul(fz::read_bcast<fz::f32>(dw.p)),
                             fz::write_quant_rms<fz::i8>(q, cols, dscale.p, xr, 1e-6f));
    EXPECT_EQ(fc::uses_vectors(fc::instance(c, rows, cols)), cols % 8 == 0 && cols <= fc::kStashCols) << cols;
    ASSERT_EQ(fc::run(nullptr, c, rows, cols), cudaSuccess);
    std::vector<int8_t> hq(x.size());
    ASSERT_EQ(cudaMemcpy(hq.data(), q, x.size(), cudaMemcpyDeviceToHost), cudaSuccess);
    cudaFree(q);
    const auto scale = dscale.get();
    expect_guards(scale, rows, "scale");
    for (int64_t i = 0; i < rows; ++i) {
      double sq = 0, amax = 0;
      for (int64_t j = 0; j < cols; ++j) sq += double(x[size_t(i * cols + j)]) * x[size_t(i * cols + j)];
      const double inv_rms = 1.0 / std::sqrt(sq / double(cols) + 1e-6);
      for (int64_t j = 0; j < cols; ++j) amax = std::max(amax, std::fabs(x[size_t(i * cols + j)] * inv_rms * w[size_t(j)]));
      ASSERT_NEAR(scale[size_t(i)], amax / 127.0, 1e-6 * amax / 127.0) << "scale of row " << i << ", " << cols;
      for (int64_t j = 0; j < cols; ++j) {
        const double exact = amax > 0 ? x[size_t(i * cols + j)] * inv_rms * w[size_t(j)] / (amax / 127.0) : 0.0;
        ASSERT_LE(std::fabs(double(hq[size_t(i * cols + j)]) - exact), 0.5 + 1e-4)
            << "row " << i << " col " << j << " of " << cols;
      }
    }
  }
}

TEST(FuseCuda, GroupSizesCoverTheRow) {
  EXPECT_EQ(fc::group_for(1, 16, 1024), 32);
  EXPECT_EQ(fc::group_for(512, 16, 1024), 32);
  EXPECT_EQ(fc::group_for(513, 16, 1024), 64);
  EXPECT_EQ(fc::group_for(1024, 16, 1024), 64);
  EXPECT_EQ(fc::group_for(8192, 16, 1024), 512);
  EXPECT_EQ(fc::group_for(16384, 16, 1024), 1024);
  EXPECT_EQ(fc::group_for(1 << 20, 8, 256), 256);  // capped: chains without reductions tile the row
}

TEST(FuseCuda, RowsInRegistersAtEveryGroupSize) {
  TESSEL_REQUIRE_HOPPER();
  // 1 and 7 columns, a warp's worth, each group size's edge (+-1), several rows per block.
  for (int64_t cols : {int64_t{1}, int64_t{7}, int64_t{512}, int64_t{513}, int64_t{1024}, int64_t{2049}, int64_t{4096},
                       int64_t{8191}, int64_t{16384}})
    check_residual_layernorm(cols <= 1024 ? 37 : 5, cols);
}

// The same chains with x one element off alignment: the float path, same answers.
TEST(FuseCuda, MisalignedInputsRunAsFloats) {
  TESSEL_REQUIRE_HOPPER();
  for (int64_t cols : {int64_t{8}, int64_t{512}, int64_t{4096}}) check_residual_layernorm(9, cols, true);
}

// Softmax on the vector path (8192 columns, 16 per thread): the max sits in a late slot of one
// thread, so the online rescale of the vector accumulator must happen.
TEST(FuseCuda, VectorSoftmax) {
  TESSEL_REQUIRE_HOPPER();
  const int64_t rows = 4, cols = 8192;
  auto x = random_values(rows * cols, 6);
  for (int64_t i = 0; i < rows; ++i) x[size_t(i * cols + 8187 - i)] = 12.0f;
  DevBuf dx(x), dy(rows * cols);
  const auto c = fz::chain(fz::read<fz::f32>(dx.p, cols), fz::softmax(), fz::write<fz::f32>(dy.p, cols));
  EXPECT_TRUE(fc::uses_vectors(fc::instance(c, rows, cols)));
  ASSERT_EQ(fc::run(nullptr, c, rows, cols), cudaSuccess);
  const auto y = dy.get();
  expect_guards(y, rows * cols, "y");
  for (int64_t i = 0; i < rows; ++i) {
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += std::exp(double(x[size_t(i * cols + j)]) - 12.0);
    for (int64_t j = 0; j < cols; ++j) {
      const double want = std::exp(double(x[size_t(i * cols + j)]) - 12.0) / sum;
      ASSERT_NEAR(y[size_t(i * cols + j)], want, 1e-5 * want + 1e-30) << i << "," << j;
    }
  }
}

TEST(FuseCuda, LongRowsRecompute) {
  TESSEL_REQUIRE_HOPPER();
  check_residual_layernorm(3, fc::kStashCols + 1);
  check_residual_layernorm(2, 100003);
}

TEST(FuseCuda, LongSoftmaxRow) {
  TESSEL_REQUIRE_HOPPER();
  const int64_t cols = 262147;
  auto x = random_values(cols, 3);
  x[12345] = 30.0f;  // the max sits mid-row: the online rescale must happen
  DevBuf dx(x), dy(cols);
  ASSERT_EQ(fc::run(nullptr, fz::chain(fz::read<fz::f32>(dx.p, cols), fz::softmax(), fz::write<fz::f32>(dy.p, cols)), 1,
                    cols),
            cudaSuccess);
  const auto y = dy.get();
  expect_guards(y, cols, "y");
  double sum = 0;
  for (int64_t j = 0; j < cols; ++j) sum += std::exp(double(x[size_t(j)]) - 30.0);
  for (int64_t j = 0; j < cols; j += 997) {
    const double want = std::exp(double(x[size_t(j)]) - 30.0) / sum;
    ASSERT_NEAR(y[size_t(j)], want, 1e-5 * want + 1e-30) << j;
  }
}

// Horizontal fusion: two chains without reductions, different sizes, one launch; long rows are
// cut into column tiles. With 3 columns the second instance keeps the launch on floats; with 24
// both take vectors.
TEST(FuseCuda, TwoInstancesOneLaunch) {
  TESSEL_REQUIRE_HOPPER();
  for (const int64_t c2 : {int64_t{3}, int64_t{24}}) {
    const int64_t r1 = 3, c1 = 5000, r2 = 77;
    const auto a = random_values(r1 * c1, 4), b = random_values(r2 * c2, 5);
    DevBuf da(a), db(b), ya(r1 * c1), yb(r2 * c2);
    const auto ca = fz::chain(fz::read<fz::f32>(da.p, c1), fz::scale(2.0f), fz::write<fz::f32>(ya.p, c1));
    const auto cb = fz::chain(fz::read<fz::f32>(db.p, c2), fz::relu(), fz::write<fz::f32>(yb.p, c2));
    EXPECT_EQ(fc::uses_vectors(fc::instance(ca, r1, c1), fc::instance(cb, r2, c2)), c2 == 24);
    ASSERT_EQ(fc::run_many(nullptr, fc::instance(ca, r1, c1), fc::instance(cb, r2, c2)), cudaSuccess);
    const auto ha = ya.get(), hb = yb.get();
    expect_guards(ha, r1 * c1, "a");
    expect_guards(hb, r2 * c2, "b");
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(ha[i], 2.0f * a[i]) << i;
    for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(hb[i], b[i] > 0 ? b[i] : 0.0f) << i;
  }
}

// Short rows (at most 128 columns) on vectors run four to a 16-thread group (Strategy 3): row
// counts that leave a partial group, rows narrower than the group's 128 columns, two instances.
TEST(FuseCuda, ShortRowsFourToAGroup) {
  TESSEL_REQUIRE_HOPPER();
  for (const int64_t cols : {int64_t{8}, int64_t{40}, int64_t{128}}) {
    const int64_t r1 = 1001, r2 = 6;
    const auto a = random_values(r1 * cols, 7), b = random_values(r2 * cols, 8);
    DevBuf da(a), db(b), ya(r1 * cols), yb(r2 * cols);
    const auto ca = fz::chain(fz::read<fz::f32>(da.p, cols), fz::scale(3.0f), fz::write<fz::f32>(ya.p, cols));
    const auto cb = fz::chain(fz::read<fz::f32>(db.p, cols), fz::relu(), fz::write<fz::f32>(yb.p, cols));
    EXPECT_TRUE(fc::uses_vectors(fc::instance(ca, r1, cols), fc::instance(cb, r2, cols)));
    ASSERT_EQ(fc::run_many(nullptr, fc::instance(ca, r1, cols), fc::instance(cb, r2, cols)), cudaSuccess);
    const auto ha = ya.get(), hb = yb.get();
    expect_guards(ha, r1 * cols, "a");
    expect_guards(hb, r2 * cols, "b");
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(ha[i], 3.0f * a[i]) << cols << ": " << i;
    for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(hb[i], b[i] > 0 ? b[i] : 0.0f) << cols << ": " << i;
  }
}

// Softmax as two reductions over the row in registers (exp_minus_max, normalize_sum), on the
// vector path (whole and partial tiles) and as floats.
TEST(FuseCuda, TwoReductionSoftmax) {
  TESSEL_REQUIRE_HOPPER();
  for (const int64_t cols : {int64_t{4096}, int64_t{1000}, int64_t{1001}}) {
    const int64_t rows = 5;
    const auto x = random_values(rows * cols, 9, 1.0f);
    DevBuf dx(x), dy(rows * cols);
    const auto c = fz::chain(fz::read<fz::f32>(dx.p, cols), fz::exp_minus_max(), fz::normalize_sum(),
                             fz::write<fz::f32>(dy.p, cols));
    EXPECT_EQ(fc::uses_vectors(fc::instance(c, rows, cols)), cols % 8 == 0);
    ASSERT_EQ(fc::run(nullptr, c, rows, cols), cudaSuccess);
    const auto y = dy.get();
    expect_guards(y, rows * cols, "y");
    for (int64_t i = 0; i < rows; ++i) {
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, double(x[size_t(i * cols + j)]));
      for (int64_t j = 0; j < cols; ++j) sum += std::exp(double(x[size_t(i * cols + j)]) - mx);
      for (int64_t j = 0; j < cols; ++j) {
        const double want = std::exp(double(x[size_t(i * cols + j)]) - mx) / sum;
        ASSERT_NEAR(y[size_t(i * cols + j)], want, 1e-5 * want + 1e-30) << cols << ": " << i << "," << j;
      }
    }
  }
}

// Two reducing instances whose rows exceed the registers cannot share a launch: a clear error.
TEST(FuseCuda, LongRowsAloneOnly) {
  TESSEL_REQUIRE_HOPPER();
  DevBuf d(8);
  const auto c = fz::chain(fz::read<fz::f32>(d.p, 0), fz::rms_scale(1e-6f), fz::write<fz::f32>(d.p, 0));
  EXPECT_EQ(fc::run_many(nullptr, fc::instance(c, 1, fc::kStashCols + 1), fc::instance(c, 1, 8)),
            cudaErrorInvalidValue);
  EXPECT_EQ(fc::run_many(nullptr, fc::instance(c, 0, 8)), cudaSuccess);  // nothing to do
}

}  // namespace
