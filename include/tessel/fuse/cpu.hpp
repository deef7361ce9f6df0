// The CPU runner: one loop nest over rows for one or several fusion chains, on the thread pool, with
// the chain compiled for AVX-512 (with or without AVX512-BF16), AVX2 or the x86-64 baseline and chosen
// at run time.
//
//   fuse::cpu::run(chain, rows, cols);                                   // vertical fusion
//   fuse::cpu::run_many({}, fuse::cpu::instance(c1, r1, n1),             // horizontal fusion:
//                           fuse::cpu::instance(c2, r2, n2));            // one parallel_for
//
// How one chain becomes SIMD code for several ISAs without per-file flags: the row loop is a
// template; four small entry points (avx512bf16, avx512, avx2, baseline) carry target attributes and
// `flatten`, so the compiler inlines the whole chain into each and generates it with that ISA's
// registers (16, 8 or 4 lanes). Ops written in plain C++ on V inline into all of them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "tessel/cpu/parallel.hpp"
#include "tessel/fuse/chain.hpp"

namespace tessel::fuse::cpu {

// avx512bf16: avx512 whose bf16 writes round with vcvtneps2bf16 (AVX512-BF16: Cooper Lake, Sapphire
// Rapids, Zen 4 and later): one instruction where the integer rounding takes seven.
enum class Isa { best, avx512bf16, avx512, avx2, baseline };

inline const char* isa_name(Isa i) {
  switch (i) {
    case Isa::best:
      return "best";
    case Isa::avx512bf16:
      return "avx512bf16";
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    case Isa::baseline:
      return "baseline";
  }
  return "?";
}

// The widest ISA this machine runs: avx512bf16 (avx512 plus AVX512-BF16), avx512 (F, BW, DQ, VL), avx2
// (with FMA and F16C), or the baseline (SSE2 on x86-64, the compiler's default elsewhere).
inline Isa detect_isa() {
#if defined(TESSEL_FUSE_X86)
  static const Isa isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
      return __builtin_cpu_supports("avx512bf16") ? Isa::avx512bf16 : Isa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
      return Isa::avx2;
    return Isa::baseline;
  }();
  return isa;
#else
  return Isa::baseline;
#endif
}

// `want`, or the widest supported ISA below it (best: the widest of all).
inline Isa resolve_isa(Isa want) {
  const Isa have = detect_isa();
  if (want == Isa::best) return have;
  return int(want) < int(have) ? have : want;  // the enum runs from widest to narrowest
}

struct Options {
  int threads = 0;      // 0: every hardware thread
  Isa isa = Isa::best;  // tests force each ISA in turn
  int stream = -1;      // streaming stores: -1 auto (at least kStreamElems elements), 0 off, 1 on
  // Rows with reductions up to this many columns take the stash (detail::stash_passes), longer ones
  // recompute; 0 (or less): the runner's default, detail::kStashCols. A chain whose recomputing is dear
  // (softmax's exp) can ask for more.
  int64_t stash_cols = 0;
};

// Outputs this large (in elements) are written with streaming stores when Options::stream is auto:
// they would not stay in cache for the next op anyway.
inline constexpr int64_t kStreamElems = int64_t{2} << 20;
// Below about this many elements per thread, waking a thread costs more than it saves.
inline constexpr int64_t kElemsPerThread = 32768;

template <class C>
struct Instance {
  C chain;
  int64_t rows = 0, cols = 0;
};
template <class C>
Instance<C> instance(const C& chain, int64_t rows, int64_t cols) {
  return Instance<C>{chain, rows, cols};
}

namespace detail {

// What the runner decided for a whole run, passed to every row.
struct RunFlags {
  bool stream = false;     // streaming stores
  int64_t stash_cols = 0;  // the longest row that takes the stash
};

// Work units of one row: its columns plus a fixed cost, so many short rows still spread evenly.
inline int64_t row_work(int64_t cols) { return cols + 16; }

// Rows up to this long keep a per-thread f32 copy of the row (the stash, at most 256 KiB) between
// the passes of a chain with reductions; longer rows recompute instead.
// (Overridable at build time for experiments: 0 makes every row recompute.)
#ifndef TESSEL_FUSE_STASH_COLS
#define TESSEL_FUSE_STASH_COLS 65536
#endif
inline constexpr int64_t kStashCols = TESSEL_FUSE_STASH_COLS;

// The stash: per thread, reused across rows and runs (pool threads are persistent).
inline float* stash_buffer(int64_t cols) {
  thread_local std::vector<float> buf;
  const size_t need = size_t(cols) + 64;
  if (buf.size() < need) buf.resize(need);
  // Align to 64 bytes so every vector slot of the row is one aligned line or less.
  const auto a = (reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t(63);
  return reinterpret_cast<float*>(a);
}

// Strategy 1, the stash (rows up to kStashCols with reductions). With reductions at op indices
// I0 < I1 < ... < Ik-1, pass 0 evaluates ops [0, I0) from memory, stashes the value reduction 0
// takes and accumulates it; pass p resumes from the stash, applies ops [Ip-1, Ip) and stashes
// again; the last pass applies ops [Ik-1, end). Every op runs exactly once per element, every input
// is read once, and each write happens in the pass that evaluates it.
template <int P, int N, bool H, bool kNextRow, class C>
TESSEL_FUSE_INLINE void stash_passes(C& c, int64_t r, int64_t nb, int tail, int64_t cols, float* stash, bool stream) {
  using V = Vec<N>;
  constexpr int kBegin = P == 0 ? 0 : C::reduction_at(P - 1);
  constexpr bool kLast = P == C::kReductions;
  constexpr int kEnd = kLast ? C::kOps : C::reduction_at(P);
  // Reads prefetch ahead of where they load: in pass 0, and as before in the later passes (which
  // load none of pass 0's reads, resuming from the stash) on rows within the prefetch distance, where
  // pass 0's prefetch already runs into the next row and those prefetches reach further. On longer
  // rows (kNextRow) the first later pass prefetches pass 0's reads of the next row instead, so their
  // loads overlap this row's arithmetic rather than wait for the next row's pass 0 (f32 rows of 4096:
  // 1.05-1.48x, bench/results/cpu/fuse-next-row-prefetch-2026-12-01-session29.txt). A read in a later op
  // prefetches in its own pass.
  auto value = [&](V& v, const auto& at) {
    if constexpr (P == 0 || !kNextRow) {
      c.prefetch(at.row, at.col);
    } else {
      if constexpr (P == 1) c.template prefetch<0, kBegin>(at.row + 1, at.col);
      c.template prefetch<kBegin, kEnd>(at.row, at.col);
    }
    if constexpr (P == 0) {
      c.template eval<kEnd>(v, at);
    } else {
      v = Simd<V>::load_f32(stash + at.col);
      c.template apply<kBegin, kEnd>(v, at);
    }
  };
  if constexpr (kLast) {
    for (int64_t j = 0; j < nb; j += N) {
      V v;
      value(v, At<false, true, H>{r, j, N, stream, cols});
    }
    if (tail > 0) {
      V v;
      value(v, At<true, true, H>{r, nb, tail, stream, cols});
    }
  } else {
    auto& op = c.template op<kEnd>();
    typename std::remove_reference_t<decltype(op)>::template Acc<V> acc{};
    for (int64_t j = 0; j < nb; j += N) {
      V v;
      const At<false, true, H> at{r, j, N, stream, cols};
      value(v, at);
      Simd<V>::store_f32(stash + j, v);
      fuse::detail::accumulate<false>(op, acc, v, at);
    }
    if (tail > 0) {
      V v;
      const At<true, true, H> at{r, nb, tail, stream, cols};
      value(v, at);
      Simd<V>::store_f32(stash + nb, v);
      fuse::detail::accumulate<true>(op, acc, v, at);
    }
    op.finish(acc.lanes(), cols);
    stash_passes<P + 1, N, H, kNextRow>(c, r, nb, tail, cols, stash, stream);
  }
}

// Strategy 2, recompute (long rows, or no reductions). Pass p evaluates ops [0, Ip) from the start
// (re-reading inputs, from cache for rows that fit) and accumulates; only the last pass writes.
template <int P, int N, bool H, class C>
TESSEL_FUSE_INLINE void reduction_passes(C& c, int64_t r, int64_t nb, int tail, int64_t cols) {
  if constexpr (P < C::kReductions) {
    using V = Vec<N>;
    constexpr int I = C::reduction_at(P);
    auto& op = c.template op<I>();
    typename std::remove_reference_t<decltype(op)>::template Acc<V> acc{};
    for (int64_t j = 0; j < nb; j += N) {
      if constexpr (P == 0) c.prefetch(r, j);
      V v;
      const At<false, false, H> at{r, j, N, false, cols};
      c.template eval<I>(v, at);
      fuse::detail::accumulate<false>(op, acc, v, at);
    }
    if (tail > 0) {
      V v;
      const At<true, false, H> at{r, nb, tail, false, cols};
      c.template eval<I>(v, at);
      fuse::detail::accumulate<true>(op, acc, v, at);
    }
    op.finish(acc.lanes(), cols);
    reduction_passes<P + 1, N, H>(c, r, nb, tail, cols);
  }
}

// One row of one chain.
template <int N, bool H, class C>
TESSEL_FUSE_INLINE void row(C& c, int64_t r, int64_t cols, float* stash, bool stream) {
  using V = Vec<N>;
  const int64_t nb = cols / N * N;
  const int tail = int(cols - nb);
  c.begin_row(r);
  if constexpr (C::kReductions > 0) {
    if (stash) {
      // Rows longer than the prefetch distance, even at 2 bytes an element: see stash_passes.
      if (cols * 2 > fuse::detail::kPrefetchBytes)
        return stash_passes<0, N, H, true>(c, r, nb, tail, cols, stash, stream);
      return stash_passes<0, N, H, false>(c, r, nb, tail, cols, stash, stream);
    }
  }
  reduction_passes<0, N, H>(c, r, nb, tail, cols);
  for (int64_t j = 0; j < nb; j += N) {
    if constexpr (C::kReductions == 0) c.prefetch(r, j);
    V v;
    c.template eval<C::kOps>(v, At<false, true, H>{r, j, N, stream, cols});
  }
  if (tail > 0) {
    V v;
    c.template eval<C::kOps>(v, At<true, true, H>{r, nb, tail, stream, cols});
  }
}

// The rows of one instance whose work starts in [lo, hi); `offset` is the instance's first unit.
template <int N, bool H, class C>
TESSEL_FUSE_INLINE void instance_rows(const Instance<C>& in, int64_t offset, int64_t lo, int64_t hi, const RunFlags& f) {
  const int64_t w = row_work(in.cols);
  auto first_row = [&](int64_t at) { return std::clamp<int64_t>((at - offset + w - 1) / w, 0, in.rows); };
  const int64_t r0 = lo <= offset ? 0 : first_row(lo);
  const int64_t r1 = hi <= offset ? 0 : first_row(hi);
  if (r0 >= r1) return;
  C c = in.chain;  // per-thread copy: reductions keep their row statistics in it
  float* stash = C::kReductions > 0 && in.cols <= f.stash_cols ? stash_buffer(in.cols) : nullptr;
  for (int64_t r = r0; r < r1; ++r) row<N, H>(c, r, in.cols, stash, f.stream);
}

template <int N, bool H, class... C>
TESSEL_FUSE_INLINE void work_range(int64_t lo, int64_t hi, const RunFlags& f, const Instance<C>&... in) {
  int64_t offset = 0;
  ((instance_rows<N, H>(in, offset, lo, hi, f), offset += in.rows * row_work(in.cols)), ...);
}

#if defined(TESSEL_FUSE_X86)
template <class... C>
__attribute__((flatten, target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c"))) void work_avx512(
    int64_t lo, int64_t hi, const RunFlags& f, const Instance<C>&... in) {
  work_range<16, false>(lo, hi, f, in...);
}
// The same with bf16 writes by vcvtneps2bf16 (At::hw_bf16; written as inline asm in detail::store, so
// no target flag is needed for it here).
template <class... C>
__attribute__((flatten, target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c"))) void work_avx512bf16(
    int64_t lo, int64_t hi, const RunFlags& f, const Instance<C>&... in) {
  work_range<16, true>(lo, hi, f, in...);
}
template <class... C>
__attribute__((flatten, target("avx2,fma,f16c"))) void work_avx2(int64_t lo, int64_t hi, const RunFlags& f,
                                                                 const Instance<C>&... in) {
  work_range<8, false>(lo, hi, f, in...);
}
#endif
template <class... C>
__attribute__((flatten)) void work_baseline(int64_t lo, int64_t hi, const RunFlags& f, const Instance<C>&... in) {
  work_range<4, false>(lo, hi, f, in...);
}

}  // namespace detail

// Runs every instance's chain over its rows in one parallel_for, rows split by work across threads.
template <class... C>
void run_many(const Options& o, const Instance<C>&... in) {
  static_assert(sizeof...(C) >= 1);
  const int64_t total = (int64_t{0} + ... + (in.rows * detail::row_work(in.cols)));
  if (total <= 0) return;
  const int64_t elems = (int64_t{0} + ... + (in.rows * in.cols));
  int64_t threads = o.threads > 0 ? o.threads : tessel::cpu::hardware_threads();
  threads = std::clamp<int64_t>(elems / kElemsPerThread, 1, threads);
  const detail::RunFlags flags{o.stream == 1 || (o.stream < 0 && elems >= kStreamElems),
                               o.stash_cols > 0 ? o.stash_cols : detail::kStashCols};
  const Isa isa = resolve_isa(o.isa);
  tessel::cpu::parallel_for(threads, int(threads), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      // total * t fits easily: total is below 2^40 by every op's validity rules.
      const int64_t lo = total * t / threads, hi = total * (t + 1) / threads;
      switch (isa) {
#if defined(TESSEL_FUSE_X86)
        case Isa::avx512bf16:
          detail::work_avx512bf16(lo, hi, flags, in...);
          break;
        case Isa::avx512:
          detail::work_avx512(lo, hi, flags, in...);
          break;
        case Isa::avx2:
          detail::work_avx2(lo, hi, flags, in...);
          break;
#endif
        default:
          detail::work_baseline(lo, hi, flags, in...);
          break;
      }
    }
    // Streaming stores are weakly ordered: fence them before the pool reports this chunk done.
    if (flags.stream) fuse::detail::stream_fence();
  });
}

// One chain over [rows, cols].
template <class C>
void run(const C& chain, int64_t rows, int64_t cols, const Options& o = {}) {
  run_many(o, instance(chain, rows, cols));
}

}  // namespace tessel::fuse::cpu
