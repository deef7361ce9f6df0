// Back-to-back parallel regions as a model runtime issues them, with no harness and no keep_warm:
// each region streams the next 4 MiB slice of a 256 MiB buffer on 2 threads (a GEMV stand-in), then
// the caller does `gap_us` of serial work (the small ops between two GEMVs), so only the pool's own
// warm window (2 ms) can keep the worker from sleeping between regions. Prints the median and the
// 90th percentile of the region times. The pool reads TESSEL_CPU_WARM_POOL once, so one process per
// mode. Not part of the build; from the repo root, after building the cpu preset:
//   g++ -std=c++20 -O2 -I include bench/results/cpu/warm-pool-loop.cpp build/cpu/libtessel.a -lpthread -o /tmp/warm-pool-loop
//   TESSEL_CPU_WARM_POOL=0 /tmp/warm-pool-loop 300; /tmp/warm-pool-loop 300; TESSEL_CPU_WARM_POOL=1 ...
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tessel/cpu/parallel.hpp"

int main(int argc, char** argv) {
  using clock = std::chrono::steady_clock;
  const int gap_us = argc > 1 ? std::atoi(argv[1]) : 300;
  const int regions = argc > 2 ? std::atoi(argv[2]) : 3000;
  const size_t slice = size_t{4} << 17, words = size_t{256} << 17;  // in 8-byte words: 4 and 256 MiB
  std::vector<uint64_t> data(words, 1);
  uint64_t partial[2] = {0, 0};
  std::vector<double> us(size_t(regions), 0);
  for (int r = 0; r < regions; ++r) {
    const uint64_t* base = data.data() + (size_t(r) * slice) % words;
    const auto t0 = clock::now();
    tessel::cpu::parallel_for(2, 0, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        uint64_t s = 0;
        for (size_t i = size_t(c) * slice / 2; i < size_t(c + 1) * slice / 2; ++i) s += base[i];
        partial[c] += s;
      }
    });
    us[size_t(r)] = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
    const auto gap_end = clock::now() + std::chrono::microseconds(gap_us);
    while (clock::now() < gap_end) {
    }
  }
  std::vector<double> tail(us.begin() + regions / 4, us.end());  // past the first touches
  std::sort(tail.begin(), tail.end());
  std::printf("gap %d us, %zu regions: median %.1f us, p90 %.1f us, max %.1f us (checksum %llu)\n", gap_us, tail.size(),
              tail[tail.size() / 2], tail[tail.size() * 9 / 10], tail.back(),
              static_cast<unsigned long long>(partial[0] + partial[1]));
  return 0;
}
