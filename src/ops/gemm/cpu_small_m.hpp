// cpu.simd's small-M path (cpu_small_m.cpp): its entry point and when cpu.cpp takes it.
#pragma once

#include <cstdint>

#include "gemm.hpp"

namespace tessel::gemm {

// B read in place, once, threads over N.
void gemm_small_m(const Shape& s, const void* a, const void* b, const void* bias, const void* residual, void* c,
                  int threads);

// Up to this many rows of A the small-M path beats packing B. Medians on the 2-core Sapphire Rapids
// VM (2026-11-28), `tessel bench "gemm m=M n=4096 k=4096 b=L" --impl cpu.simd --config stream_b=0|1`,
// packed vs streamed:
//   b=kn f32:  m=16 6.87 vs 4.70 ms, m=32 9.00 vs 7.27, m=40 9.44 vs 8.59, m=48 10.83 vs 10.39,
//              m=64 12.56 vs 12.63; bf16: m=32 7.98 vs 7.44, m=48 9.66 vs 10.77.
//   b=nk f32:  m=16 10.70 vs 4.57, m=32 12.20 vs 7.00, m=64 16.98 vs 12.32, m=96 19.23 vs 19.98,
//              m=128 22.21 vs 27.74; bf16: m=64 14.10 vs 12.81, m=96 17.90 vs 20.66.
// nk crosses later because packing B[N,K] into K-major panels is a transpose, the costlier pack.
inline constexpr int64_t kSmallMKn = 32;
inline constexpr int64_t kSmallMNk = 64;

// Whether the default (stream_b=-1) takes the small-M path for this shape.
inline bool small_m_streams_b(const Shape& s) { return s.m <= (s.b == BLayout::nk ? kSmallMNk : kSmallMKn); }

}  // namespace tessel::gemm
