// In-process A/B of one implementation under two configs, alternating call by call (no cache flush between
// calls; each call's inputs are the same tensors). Prints each config's median and the median of the per-pair
// time ratios A/B. Session 20 used it for cpu.lut's row_lanes (bench/results/cpu/lut-row-lanes-ab-2026-11-30-session20.txt).
// Not part of the build; from the repo root, after cmake --build build/cpu:
//   g++ -std=c++20 -O2 -I include -I src -I src/ops bench/results/cpu/config-ab.cpp build/cpu/libtessel.a \
//       -lhwy -lopenblas -ldnnl -lgomp -lpthread -o /tmp/config-ab
//   /tmp/config-ab "qgemm m=512 n=4096 k=4096 wbits=1 group=128" cpu.lut 15 row_lanes=0 row_lanes=1 [threads]
// With FLUSH_MB=N in the environment, an N MiB buffer is written and read before every call (untimed),
// so that calls start with their inputs out of cache (this VM's L3 is 260 MiB: 400 does it).
// u8 tensors are random bytes, but for MX scales, drawn near the spec's 127 (before session 28 they
// were random bytes too: every E8M0 exponent, denormal and NaN products, which slowed MX kernels).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include "tessel/runtime/registry.hpp"
using namespace tessel;
static Config my_config(const std::string& s) {
  Config c;
  std::stringstream ss(s);
  std::string kv;
  while (std::getline(ss, kv, ','))
    if (auto eq = kv.find('='); eq != std::string::npos) c[kv.substr(0, eq)] = std::stoll(kv.substr(eq + 1));
  return c;
}
int main(int argc, char** argv) {
  if (argc < 6) return 2;
  const std::string desc = argv[1];
  const std::string op = desc.substr(0, desc.find(' '));
  const OpSpec& sp = *Registry::global().spec(op);
  const Implementation* impl = Registry::global().impl(op, argv[2]);
  auto pr = sp.parse(desc);
  if (!pr.ok() || !impl) return 3;
  const Problem p = *pr;
  std::vector<TensorView> views;
  std::mt19937 rng(1);
  for (const auto& d : sp.tensors(p)) {
    int64_t n = 1;
    for (auto e : d.shape) n *= e;
    size_t bytes = dtype_storage_bytes(d.dtype, n) + 64;
    void* q = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    for (int64_t i = 0; i < n; ++i)
      // u8 as the spec draws it when its scale is small (MX exponents, 127 + 0.1 z); else random bytes
      // (codes: any byte is valid, and their values do not change a kernel's speed).
      if (d.dtype == DType::u8 && d.scale < 1) store_from_double(d.dtype, q, i, d.offset + d.scale * (int(rng() % 2001) - 1000) / 1000.0);
      else if (d.dtype == DType::u8) static_cast<uint8_t*>(q)[i] = uint8_t(rng());
      else store_from_double(d.dtype, q, i, 0.1 * double(int(rng() % 2001) - 1000) / 1000.0 + (d.positive ? 0.2 : 0));
    views.push_back({q, d.dtype, d.shape, contiguous_strides(d.shape), Device::cpu});
  }
  const int reps = std::atoi(argv[3]);
  const Config ca = my_config(argv[4]), cb = my_config(argv[5]);
  const int threads = argc > 6 ? std::atoi(argv[6]) : 0;
  std::vector<double> ta, tb, ratio;
  const size_t flush_bytes = std::getenv("FLUSH_MB") ? size_t(std::atol(std::getenv("FLUSH_MB"))) << 20 : 0;
  std::vector<uint8_t> flush(flush_bytes);
  volatile uint8_t sink = 0;
  auto evict = [&] {
    if (flush.empty()) return;
    std::memset(flush.data(), int(sink) + 1, flush.size());
    for (size_t i = 0; i < flush.size(); i += 64) sink = sink + flush[i];
  };
  for (int r = 0; r < reps; ++r) {
    evict();
    auto t0 = std::chrono::steady_clock::now();
    if (!impl->run(p, ca, views, RunContext{nullptr, threads}).ok()) return 4;
    auto t1 = std::chrono::steady_clock::now();
    evict();
    auto t1b = std::chrono::steady_clock::now();
    if (!impl->run(p, cb, views, RunContext{nullptr, threads}).ok()) return 5;
    auto t2 = std::chrono::steady_clock::now();
    ta.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    tb.push_back(std::chrono::duration<double, std::milli>(t2 - t1b).count());
    ratio.push_back(ta.back() / tb.back());
  }
  auto med = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  std::printf("%-52s A[%s] %.3f ms  B[%s] %.3f ms  A/B per pair median %.3f\n", argv[1], argv[4], med(ta), argv[5], med(tb),
              med(ratio));
}
