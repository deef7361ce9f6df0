// The worked example of docs/fusion.md, compiled and tested here word for word (the test checks
// that the document still shows exactly this code).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "fuse_test_util.hpp"

// BEGIN fusion.md example
#include "tessel/fuse/fuse.hpp"

namespace fz = tessel::fuse;

// A clamped SwiGLU, quantized to fp8 for the next GEMM. Plain C++ on any lane type V: the same
// functor runs in a CUDA thread (V = 1 or 8 floats) and on CPU vectors (V = 4, 8 or 16 floats).
struct ClampedSwiglu {
  float limit;
  template <class V>
  TESSEL_HOST_DEVICE void operator()(V& y, const V& gate, const V& up) const {
    y = fz::silu(fz::min(gate, limit)) * fz::max(fz::min(up, limit), -limit);
  }
};

// x: [rows, 2 * cols] bf16 (gate | up) -> q: [rows, cols] fp8 e4m3, plus one f32 scale per row.
void clamped_swiglu_fp8(const uint16_t* x, uint8_t* q, float* scale, int64_t rows, int64_t cols) {
  const auto op =
      fz::chain(fz::read<fz::bf16>(x, 2 * cols), fz::zip(ClampedSwiglu{7.0f}, fz::read<fz::bf16>(x + cols, 2 * cols)),
                fz::write_quant<fz::e4m3>(q, cols, scale));
  fz::cpu::run(op, rows, cols);  // one loop nest; on a GPU: fz::cuda::run(stream, op, rows, cols)
}
// END fusion.md example

namespace tessel::fuse::test {
namespace {

std::string between(const std::string& text, const std::string& begin, const std::string& end) {
  const auto b = text.find(begin);
  if (b == std::string::npos) return "";
  // The text starts on the line after the end of `begin`.
  const auto start = text.find('\n', b + begin.size() - 1) + 1;
  const auto e = text.find(end, start);
  return e == std::string::npos ? "" : text.substr(start, e - start);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double silu_d(double x) { return x / (1 + std::exp(-x)); }

TEST(FusionExample, MatchesItsDoubleReference) {
  const int64_t rows = 9, cols = 203;  // odd, and a tail on every ISA
  std::vector<uint16_t> x(size_t(rows * 2 * cols));
  Rng rng{2024};
  for (auto& h : x) h = f32_to_bf16(float(rng.uniform(-12, 12)));  // beyond the clamp on both sides
  std::vector<uint8_t> q(size_t(rows * cols));
  std::vector<float> scale(static_cast<size_t>(rows));
  clamped_swiglu_fp8(x.data(), q.data(), scale.data(), rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> y(static_cast<size_t>(cols));
    double amax = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const double g = bf16_to_f32(x[size_t(r * 2 * cols + j)]), u = bf16_to_f32(x[size_t(r * 2 * cols + cols + j)]);
      y[size_t(j)] = silu_d(std::min(g, 7.0)) * std::clamp(u, -7.0, 7.0);
      amax = std::max(amax, std::fabs(y[size_t(j)]));
    }
    ASSERT_NEAR(scale[size_t(r)], amax / 448, 2e-6 * amax / 448);
    for (int64_t j = 0; j < cols; ++j) {
      // q * scale dequantizes to y within one e4m3 step (half a step, plus a possible flip).
      const double dq = e4m3_bits_to_f32(q[size_t(r * cols + j)]) * double(scale[size_t(r)]);
      ASSERT_LE(std::fabs(dq - y[size_t(j)]),
                0x1p-3 * std::fabs(y[size_t(j)]) + 0x1p-9 * scale[size_t(r)] + 1e-6 * amax)
          << r << "," << j;
    }
  }
}

// The functor with V = float is what a CUDA thread runs.
TEST(FusionExample, FunctorRunsOnOneLane) {
  for (float g : {-20.0f, -1.0f, 0.0f, 0.5f, 3.0f, 9.0f})
    for (float u : {-9.0f, -0.25f, 2.0f, 8.0f}) {
      float y;
      ClampedSwiglu{7.0f}(y, g, u);
      EXPECT_NEAR(y, silu_d(std::min(double(g), 7.0)) * std::clamp(double(u), -7.0, 7.0), 1e-5) << g << " " << u;
    }
}

TEST(FusionExample, IsTheOneInTheDocs) {
  const std::string self = read_file(std::string(TESSEL_SOURCE_DIR) + "/tests/fuse/fuse_example_test.cpp");
  const std::string doc = read_file(std::string(TESSEL_SOURCE_DIR) + "/docs/fusion.md");
  const std::string code = between(self, "// BEGIN fusion.md example", "// END fusion.md example");
  ASSERT_FALSE(code.empty());
  const std::string shown = between(doc, "<!-- example: tests/fuse/fuse_example_test.cpp -->\n```cpp", "```");
  EXPECT_EQ(shown, code) << "docs/fusion.md no longer shows the example this test compiles";
  // The promise: a user-defined fused op in at most 20 lines, not counting blank lines.
  int lines = 0;
  std::istringstream in(code);
  for (std::string l; std::getline(in, l);) lines += l.find_first_not_of(' ') != std::string::npos;
  EXPECT_LE(lines, 20);
}

}  // namespace
}  // namespace tessel::fuse::test
