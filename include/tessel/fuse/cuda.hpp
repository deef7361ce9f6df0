// The CUDA runner: the same fusion chains as the CPU runner, as ONE kernel launch for one or several
// chains (horizontal fusion). Compiled only by nvcc; include it from a .cu file.
//
//   fuse::cuda::run(stream, chain, rows, cols);
//   fuse::cuda::run_many(stream, fuse::cuda::instance(c1, r1, n1), fuse::cuda::instance(c2, r2, n2));
//
// How a row is mapped. A slot holds V: DVecF (dvec.hpp), 8 consecutive columns read with one
// 16-byte load of bf16, when every op of the launch allows it and the rows are multiples of 8
// columns (uses_vectors() below); otherwise float, one column.
//
// - A *group* of G threads (a power of two, 32 to 1024, a template parameter of the kernel; 16 for
//   vector rows of at most 128 columns without reductions, Strategy 3) owns a row; thread t of the
//   group owns the slots at columns L*t, L*(t + G), L*(t + 2G), ... (kPer slots of L = 1 or 8 columns). Every
//   warp-wide load is then one contiguous, fully used run of memory, and slot k sits at a
//   compile-time offset from the thread's first column (immediate offsets off one address, no
//   64-bit address per slot). Short rows use small groups, down to one warp per row (65536 x 1024
//   with 4 vector slots), and a block is one group (kStashMinBlock). One launch uses one G, the
//   widest row's.
// - **The row stays in registers** (the stash, kPer slots per thread) between the passes of a chain
//   with row reductions: pass 0 evaluates the ops up to the first reduction from memory, each later
//   pass resumes from the registers. Every input is read from memory once, every op runs once per
//   element, and each write happens in the pass that evaluates it (as on the CPU, cpu.hpp).
// - **Loads before stores, no branches between them.** Each pass is split at its first storing op:
//   the ops before it run for all kPer slots first, with slots past the row's end clamped to its
//   last column instead of branched around, so the compiler issues every slot's loads back to back
//   (kPer loads in flight per thread). Then the storing ops run, guarded. Without the split a store
//   could alias the next slot's input; with a branch per slot each load waited for the previous
//   slot's math (both measured: about 1 TB/s).
// - Chains without reductions split long rows into tiles of G * kPer columns, each a "row" of its
//   own, so any row length fills the machine; rows of at most 128 columns (rope's heads) run in
//   single warps with 4 slots as floats, and on vectors four rows to a 16-thread group (Strategy 3).
// - Rows longer than 1024 * kPer with reductions (up to any length; softmax is checked at 700001)
//   take one 1024-thread block per row and *recompute*: each statistics pass re-reads the row
//   (from L2 while it fits), unrolled so several loads per thread are in flight; the final pass
//   evaluates everything and writes.
//
// Reductions are block reductions: per-thread accumulators, merged across each warp with xor
// shuffles (every lane gets the same bits: the merges are commutative) and across a group's warps
// through shared memory in warp order, so results do not depend on timing.
//
// Why vectors: with one 2-byte element per load, 32 lanes fetch 64 contiguous bytes per request,
// and the SM's outstanding requests, not its registers, capped the bytes in flight (14-84% of copy
// bandwidth on the H200; docs/fusion.md). A 16-byte load moves 8x the bytes per request for the
// same registers. Not done: a multi-block (cluster) split of very long rows, which use one block
// per row and floats.
#pragma once

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tessel/fuse/chain.hpp"

namespace tessel::fuse::cuda {

// Where and how a launch runs: its stream, and the slots per thread on the vector path (0: the
// runner's choice, kVecSlotsReduce or kVecSlotsMap; else 2 or 4). A
// cudaStream_t converts to it.
struct Launch {
  cudaStream_t stream = nullptr;
  int vec_slots = 0;
  Launch(cudaStream_t s = nullptr, int slots = 0) : stream(s), vec_slots(slots) {}  // NOLINT: implicit on purpose
};

template <class C>
struct Instance {
  C chain;
  int64_t rows = 0, cols = 0;
};
template <class C>
Instance<C> instance(const C& chain, int64_t rows, int64_t cols) {
  return Instance<C>{chain, rows, cols};
}

// Slots per thread: the row held in registers (chains with reductions), and the tile depth of
// chains without (fewer registers are needed there: nothing is kept between passes). Measured on
// the H200 (docs/fusion.md): bandwidth follows the bytes in flight, so these set the speed.
inline constexpr int kPerReduce = 16;
inline constexpr int kPerMap = 8;
// Slots on the vector path (DVecF, 8 columns a slot; Launch::vec_slots picks 2 or 4). With 16-byte
// loads, registers bound the bytes in flight: 4 slots (32 columns, 32 of the 64 registers that 1024
// threads per SM leave) keep 64 bytes in flight per input stream, 2 slots 32. Measured on the H200
// (bf16; docs/fusion.md): 4 slots made rmsnorm, layernorm, softmax and rmsnorm_quant 1.06-1.7x
// faster; 2 slots suit chains that stream two inputs into registers (rmsnorm_residual: 4 spills and
// is 10% slower). Chains without reductions take 2: against 4, relu (a near-copy) was 1.08-1.16x and
// gelu_tanh 1.03-1.10x faster at the bf16 shapes, twice the threads hiding the stores (session 9,
// call 3; gelu_tanh had preferred 4 while its exp was expensive), and two-input chains such as swiglu
// had been 0.92-0.96x with 4.
inline constexpr int kVecSlotsReduce = 4;
inline constexpr int kVecSlotsMap = 2;
inline constexpr int kMaxGroup = 1024;
inline constexpr int kMinBlock = 256;
// Threads per block of the stash kernel: max(group, this). A block is one group, so a finished row
// frees its warps at once; with 256-thread blocks of eight one-warp rows the SM waited for the
// block's slowest row before starting the next block (ncu at 65536 x 1024: 39% achieved occupancy
// against Triton's 43% with one-warp blocks). Measured on the H200 against 256-thread blocks over the
// fusion suite (session 16, call 4): one-warp rows (65536 x 1024) 1.00-1.04x, 128-thread rows (4096 x
// 4096) 0.998-1.04x, 256-thread rows and 64-thread column tiles 0.995-1.003x.
inline constexpr int kStashMinBlock = 32;
// Rows longer than this (with reductions) take the recompute kernel.
inline constexpr int64_t kStashCols = int64_t{kMaxGroup} * kPerReduce;

// Division of any n < 2^31 by a divisor fixed at launch, as a multiply and a shift (Granlund and
// Montgomery): with 2^(l-1) < d <= 2^l and m = floor(2^(31+l) / d) + 1, m * d lies in (2^(31+l),
// 2^(31+l) + 2^l], which makes floor(m * n / 2^(31+l)) = floor(n / d). Why: every thread of a map
// chain splits its virtual row into (row, column tile), and the 64-bit division this replaces is a
// subroutine of about seventy instructions that ran before the thread could issue its first load.
// Measured on the H200 (session 9): no gain at 4 slots a thread (1.00-1.02x, 6% fewer
// instructions), but at 2 slots, twice the threads, gelu_tanh ran 1.03-1.10x faster than the 4-slot
// build with it (call 3) and 0.99-1.06x without it (call 4).
struct Divider31 {
  uint64_t m = (uint64_t{1} << 31) + 1;
  int shift = 31;
  Divider31() = default;
  explicit Divider31(int64_t d) {
    int l = 0;
    while ((int64_t{1} << l) < d) ++l;
    shift = 31 + l;
    m = (uint64_t{1} << shift) / uint64_t(d) + 1;  // at most 2^32: m * n < 2^63
  }
  TESSEL_HOST_DEVICE int64_t operator()(int64_t n) const { return int64_t((m * uint64_t(n)) >> shift); }
};

// How one instance is laid out on the grid (host-computed, passed by value). The group size is
// the launch's, a template parameter of the kernel.
struct Layout {
  int64_t tiles = 1;        // virtual rows per row: column tiles of group * kPer (1 with reductions)
  int64_t vrows = 0;        // rows * tiles
  int64_t block_begin = 0;  // first block of this instance
  int64_t blocks = 0;
  Divider31 by_tiles;       // vrow / tiles, for vrows < 2^31
};

// The group for a row of `cols` with `per` slots per thread: the smallest power of two (at least a
// warp) whose slots cover the row, capped at `cap`.
inline int group_for(int64_t cols, int per, int cap) {
  int g = 32;
  while (g < cap && int64_t(g) * per < cols) g *= 2;
  return g;
}

namespace detail {

// Shuffles any trivially copyable accumulator, 32 bits at a time.
template <class T>
__device__ TESSEL_FUSE_INLINE T shfl_xor(const T& v, int mask) {
  static_assert(sizeof(T) % 4 == 0, "accumulators are made of 32-bit words");
  T out;
  const auto* s = reinterpret_cast<const unsigned*>(&v);
  auto* d = reinterpret_cast<unsigned*>(&out);
#pragma unroll
  for (int i = 0; i < int(sizeof(T) / 4); ++i) d[i] = __shfl_xor_sync(0xffffffffu, s[i], mask);
  return out;
}

// Merges the accumulators of a group of `group_warps` consecutive warps; every thread of the group
// gets the result. Every thread of the block must call it (it synchronizes the block when groups
// span several warps; group_warps is uniform across the block).
template <class Acc>
__device__ TESSEL_FUSE_INLINE Acc group_reduce(Acc a, int group_warps) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) a.merge(shfl_xor(a, m));
  if (group_warps == 1) return a;
  // Raw storage: __shared__ variables cannot have initializers, and accumulators have them.
  __shared__ alignas(16) unsigned char raw[(kMaxGroup / 32) * sizeof(Acc)];
  auto* per_warp = reinterpret_cast<Acc*>(raw);
  const int warp = int(threadIdx.x) / 32;
  if (threadIdx.x % 32 == 0) per_warp[warp] = a;
  __syncthreads();
  const int first = warp - warp % group_warps;
  Acc total = per_warp[first];
  for (int w = 1; w < group_warps; ++w) total.merge(per_warp[first + w]);
  __syncthreads();  // the buffer is reused by the next reduction
  return total;
}

// Op traits: which ops store when applied in a final pass.
template <class Op>
TESSEL_HOST_DEVICE constexpr bool stores() {
  if constexpr (Op::kind == Kind::write) return true;
  if constexpr (requires { Op::kStores; }) return Op::kStores;
  return false;
}
template <class C>
struct StoreMap;
template <class... Ops>
struct StoreMap<Chain<Ops...>> {
  static constexpr bool kStores[] = {stores<Ops>()...};
  // The first op in [begin, end) that stores, or end.
  TESSEL_HOST_DEVICE static constexpr int first_store(int begin, int end) {
    for (int i = begin; i < end; ++i)
      if (kStores[i]) return i;
    return end;
  }
};

// Evaluates ops [Begin, End) of the chain on v at `at` (Begin 0: from the reads).
template <int Begin, int End, class C, class V, class A>
__device__ TESSEL_FUSE_INLINE void segment(const C& c, V& v, const A& at) {
  if constexpr (Begin == 0)
    c.template eval<End>(v, at);
  else if constexpr (Begin < End)
    c.template apply<Begin, End>(v, at);
}

// ---- Strategy 1: the row in registers ------------------------------------------------------------

// The row accumulator folded to one lane, as group_reduce merges it.
template <class Acc>
__device__ TESSEL_FUSE_INLINE auto one_lane(const Acc& a) {
  if constexpr (requires { a.lanes(); } && !std::is_same_v<decltype(a.lanes()), Acc>)
    return a.lanes();
  else
    return a;
}

// Pass P over the slots: ops [kBegin, kEnd) (split at the first store), then, unless it is the last
// pass, reduction P over the results and the next pass. V is float (one column per slot) or DVecF
// (kL = 8 consecutive columns per slot, whole 16-byte loads); slot k starts kGroup * kL * k columns
// after the thread's first column j0. kFull: every slot of the tile is inside the row (the common
// case: 8192 columns are exactly 512 threads x 16 columns), so slot k sits at a compile-time offset
// from j0 and the loads take immediate offsets off one base address instead of a 64-bit address
// per slot. On the DVec path the row length is a multiple of kL, so a slot is wholly in or out.
template <int P, int kGroup, int kPer, bool kFull, class V, class C>
__device__ TESSEL_FUSE_INLINE void stash_passes(C& c, V (&st)[kPer], int64_t r, int64_t j0, int64_t cols,
                                                bool valid) {
  constexpr int kL = lanes_v<V>;
  constexpr int kBegin = P == 0 ? 0 : C::reduction_at(P - 1);
  constexpr bool kLast = P == C::kReductions;
  constexpr int kEnd = kLast ? C::kOps : C::reduction_at(P);
  constexpr int kSplit = StoreMap<C>::first_store(kBegin, kEnd);
  auto col = [&](int k) -> int64_t {
    const int64_t j = j0 + int64_t(k) * kGroup * kL;
    if constexpr (kFull) return j;
    return j < cols ? j : cols - kL;
  };
  if constexpr (kBegin < kSplit || P == 0) {
    // No branch per slot: a slot past the row's end evaluates at the last column (in bounds; its
    // value is never stored or accumulated). A branch per slot kept the compiler from issuing every
    // slot's loads before the first one's math (measured: about 1 TB/s with branches).
#pragma unroll
    for (int k = 0; k < kPer; ++k) segment<kBegin, kSplit>(c, st[k], At<false, true>{r, col(k), kL, false, cols});
  }
  if constexpr (kSplit < kEnd) {
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int64_t j = j0 + int64_t(k) * kGroup * kL;
      if (valid && (kFull || j < cols)) c.template apply<kSplit, kEnd>(st[k], At<false, true>{r, j, kL, false, cols});
    }
  }
  if constexpr (!kLast) {
    auto& op = c.template op<kEnd>();
    typename std::remove_reference_t<decltype(op)>::template Acc<V> acc{};
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int64_t j = j0 + int64_t(k) * kGroup * kL;
      if (valid && (kFull || j < cols))
        fuse::detail::accumulate<false>(op, acc, st[k], At<false, true>{r, j, kL, false, cols});
    }
    const auto total = group_reduce(one_lane(acc), kGroup / 32);
    if (valid) op.finish(total, cols);
    stash_passes<P + 1, kGroup, kPer, kFull>(c, st, r, j0, cols, valid);
  }
}

template <int kGroup, int kPer, class V, class C>
__device__ TESSEL_FUSE_INLINE void stash_block(const Instance<C>& in, const Layout& lay, int64_t block) {
  constexpr int kBlock = kGroup > kStashMinBlock ? kGroup : kStashMinBlock;
  constexpr int64_t kTile = int64_t(kGroup) * kPer * lanes_v<V>;  // columns a group covers
  const int lane = int(threadIdx.x) % kGroup;
  const int64_t vrow = block * (kBlock / kGroup) + int64_t(threadIdx.x) / kGroup;
  const bool valid = vrow < lay.vrows;
  // An idle group (past the last row) still joins the block's barriers; it reads row 0, stores nothing.
  // With reductions a virtual row is a row (one tile): no 64-bit division, a subroutine of about
  // seventy instructions per thread, which weighed on compute-heavy chains (softmax).
  int64_t r = 0, c0 = 0;
  if constexpr (C::kReductions > 0) {
    r = valid ? vrow : 0;
  } else {
    r = valid ? (lay.vrows <= INT32_MAX ? lay.by_tiles(vrow) : vrow / lay.tiles) : 0;
    c0 = valid ? (vrow - r * lay.tiles) * kTile : 0;
  }
  C c = in.chain;  // per-thread copy: reductions keep their row statistics in it
  c.begin_row(r);
  V st[kPer];
  // Uniform across the block: every group of a block has the same cols and tile width, and only
  // the last tile of a row can be partial.
  const int64_t j0 = c0 + int64_t(lane) * lanes_v<V>;
  if (c0 + kTile <= in.cols)
    stash_passes<0, kGroup, kPer, true>(c, st, r, j0, in.cols, valid);
  else
    stash_passes<0, kGroup, kPer, false>(c, st, r, j0, in.cols, valid);
}

// ---- Strategy 2: recompute, one block per long row ----------------------------------------------

inline constexpr int kUnroll = 4;

// Reduction pass P: evaluates ops [0, I_P) from memory (no stores happen: final_pass is false) and
// accumulates; the next pass reuses the statistic.
template <int P, class C>
__device__ TESSEL_FUSE_INLINE void long_passes(C& c, int64_t r, int64_t cols) {
  if constexpr (P < C::kReductions) {
    constexpr int I = C::reduction_at(P);
    auto& op = c.template op<I>();
    typename std::remove_reference_t<decltype(op)>::template Acc<float> acc{};
    const int64_t step = int64_t(blockDim.x) * kUnroll;
    for (int64_t j0 = threadIdx.x; j0 < cols; j0 += step) {
      float v[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {  // clamped, not branched: see stash_passes
        const int64_t j = j0 + int64_t(u) * blockDim.x;
        c.template eval<I>(v[u], At<false, false>{r, j < cols ? j : cols - 1, 1, false, cols});
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int64_t j = j0 + int64_t(u) * blockDim.x;
        if (j < cols) fuse::detail::accumulate<false>(op, acc, v[u], At<false, false>{r, j, 1, false, cols});
      }
    }
    op.finish(group_reduce(acc, int(blockDim.x) / 32), cols);
    long_passes<P + 1>(c, r, cols);
  }
}

template <class C>
__device__ TESSEL_FUSE_INLINE void long_row(const Instance<C>& in, int64_t r) {
  C c = in.chain;
  c.begin_row(r);
  long_passes<0>(c, r, in.cols);
  constexpr int kSplit = StoreMap<C>::first_store(0, C::kOps);
  const int64_t step = int64_t(blockDim.x) * kUnroll;
  for (int64_t j0 = threadIdx.x; j0 < in.cols; j0 += step) {
    float v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t j = j0 + int64_t(u) * blockDim.x;
      segment<0, kSplit>(c, v[u], At<false, true>{r, j < in.cols ? j : in.cols - 1, 1, false, in.cols});
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t j = j0 + int64_t(u) * blockDim.x;
      if (j < in.cols) c.template apply<kSplit, C::kOps>(v[u], At<false, true>{r, j, 1, false, in.cols});
    }
  }
}

// ---- Kernels -------------------------------------------------------------------------------------

// Block b belongs to the instance whose block range holds it (every thread of a block agrees).
template <int N>
struct Layouts {
  Layout l[N];
};
template <int kGroup, int kPer, class V, int I, int N>
__device__ TESSEL_FUSE_INLINE void dispatch(int64_t, const Layouts<N>&) {}
template <int kGroup, int kPer, class V, int I, int N, class C, class... Rest>
__device__ TESSEL_FUSE_INLINE void dispatch(int64_t b, const Layouts<N>& lays, const Instance<C>& in,
                                            const Rest&... rest) {
  const Layout& lay = lays.l[I];
  if (b < lay.block_begin + lay.blocks)
    stash_block<kGroup, kPer, V>(in, lay, b - lay.block_begin);
  else
    dispatch<kGroup, kPer, V, I + 1>(b, lays, rest...);
}

template <int I, int N>
__device__ TESSEL_FUSE_INLINE void short_rows_dispatch(int64_t, const Layouts<N>&) {}
template <int I, int N, class C, class... Rest>
__device__ TESSEL_FUSE_INLINE void short_rows_dispatch(int64_t b, const Layouts<N>& lays, const Instance<C>& in,
                                                       const Rest&... rest);

// Blocks of max(kGroup, kStashMinBlock) threads. The bound caps registers at 64, so that 1024 threads (half
// the SM's 2048; each with kPer loads in flight, 32 KiB per SM for bf16) fit: full occupancy would
// leave 32 registers, too few for 16 slots without spilling.
template <int kGroup, int kPer, class V, int N, class... C>
__global__ void __launch_bounds__(kGroup > kStashMinBlock ? kGroup : kStashMinBlock,
                                  1024 / (kGroup > kStashMinBlock ? kGroup : kStashMinBlock))
    stash_kernel(const Layouts<N> lays, const Instance<C>... in) {
  dispatch<kGroup, kPer, V, 0>(int64_t(blockIdx.x), lays, in...);
}

template <class C>
__global__ void __launch_bounds__(kMaxGroup) long_kernel(const Instance<C> in) {
  for (int64_t r = blockIdx.x; r < in.rows; r += gridDim.x) long_row(in, r);
}

template <class C>
TESSEL_HOST_DEVICE constexpr int per_for() {
  return C::kReductions > 0 ? kPerReduce : kPerMap;
}
// Chains without reductions on rows of at most kShortCols columns (rope's heads of 128) take half
// the slots: a warp then covers the row exactly instead of computing clamped duplicates.
inline constexpr int64_t kShortCols = 32 * kPerMap / 2;

// One instance's virtual rows for the launch's group and slots; launch_stash then places its blocks
// after those of the instances before it.
template <class C>
Layout plan(const Instance<C>& in, int64_t tile) {
  Layout l;
  const int64_t w = tile;
  l.tiles = C::kReductions > 0 ? 1 : (in.cols + w - 1) / w;
  l.vrows = in.rows * l.tiles;
  l.by_tiles = Divider31(l.tiles);
  return l;
}

// ---- Strategy 3: short rows, several per thread (chains without reductions) ------------------------
//
// Rows of at most 128 columns (rope's heads) on the vector path: a group of 16 threads takes
// kShortRows consecutive rows, thread t the 8 columns at 8t of each. One row per group left each
// thread a single 16-byte load in flight; and a read that can share work among rows at one column
// does so through load_rows (rope: the heads of a token share its sines and cosines, which
// dominated rope's time when every head computed them again).
inline constexpr int kShortGroup = 16;
inline constexpr int kShortRows = 4;
// 85 registers a thread: x and rope's partner for 4 rows. (4 blocks, 64 registers, fit bf16 rope
// without a spill but measured 0.97-0.99x on NeoX: H200, session 8, call 7; and 0.99-1.01x on bf16
// GPT-J, which holds no partner: session 12, call 2.)
inline constexpr int kShortBlocksPerSm = 3;

template <class C>
using Op0 = std::remove_cvref_t<decltype(std::declval<const C&>().template op<0>())>;
// A read with load_rows<K>(out, rows, col): K rows' vectors at one column in one call.
template <class Op>
concept LoadsRows = requires(const Op& op, DVecF (&v)[kShortRows], const int64_t (&rows)[kShortRows]) {
  op.template load_rows<kShortRows>(v, rows, int64_t{0});
};

template <class C>
__device__ TESSEL_FUSE_INLINE void short_rows_block(const Instance<C>& in, const Layout& lay, int64_t block) {
  constexpr int kL = kDeviceLanes;
  constexpr int kSplit = StoreMap<C>::first_store(0, C::kOps);
  const int64_t first = (block * (kMinBlock / kShortGroup) + int64_t(threadIdx.x) / kShortGroup) * kShortRows;
  const int64_t j = int64_t(int(threadIdx.x) % kShortGroup) * kL;
  const int64_t jc = j < in.cols ? j : in.cols - kL;  // clamped, not branched (see stash_passes)
  int64_t rows[kShortRows];
#pragma unroll
  for (int k = 0; k < kShortRows; ++k) rows[k] = first + k < lay.vrows ? first + k : lay.vrows - 1;
  C c = in.chain;
  DVecF v[kShortRows];
#pragma unroll
  for (int k = 0; k < kShortRows; ++k) c.begin_row(rows[k]);
  if constexpr (LoadsRows<Op0<C>>) {
    c.template op<0>().template load_rows<kShortRows>(v, rows, jc);
#pragma unroll
    for (int k = 0; k < kShortRows; ++k) segment<1, kSplit>(c, v[k], At<false, true>{rows[k], jc, kL, false, in.cols});
  } else {
#pragma unroll
    for (int k = 0; k < kShortRows; ++k) segment<0, kSplit>(c, v[k], At<false, true>{rows[k], jc, kL, false, in.cols});
  }
  if constexpr (kSplit < C::kOps) {
#pragma unroll
    for (int k = 0; k < kShortRows; ++k)
      if (first + k < lay.vrows && j < in.cols)
        c.template apply<kSplit, C::kOps>(v[k], At<false, true>{first + k, j, kL, false, in.cols});
  }
}

template <int I, int N, class C, class... Rest>
__device__ TESSEL_FUSE_INLINE void short_rows_dispatch(int64_t b, const Layouts<N>& lays, const Instance<C>& in,
                                                       const Rest&... rest) {
  const Layout& lay = lays.l[I];
  if (b < lay.block_begin + lay.blocks)
    short_rows_block(in, lay, b - lay.block_begin);
  else
    short_rows_dispatch<I + 1>(b, lays, rest...);
}

template <int N, class... C>
__global__ void __launch_bounds__(kMinBlock, kShortBlocksPerSm) short_rows_kernel(const Layouts<N> lays,
                                                                                  const Instance<C>... in) {
  short_rows_dispatch<0>(int64_t(blockIdx.x), lays, in...);
}

// Lays the instances out for a group size, slots and value type, and launches.
template <int kGroup, int kPer, class V, class... C>
cudaError_t launch_stash(cudaStream_t stream, const Instance<C>&... in) {
  constexpr int N = int(sizeof...(C));
  constexpr int kBlock = kGroup > kStashMinBlock ? kGroup : kStashMinBlock;
  Layouts<N> lays{{plan(in, int64_t(kGroup) * kPer * lanes_v<V>)...}};
  int64_t blocks = 0;
  for (Layout& l : lays.l) {
    l.block_begin = blocks;
    l.blocks = (l.vrows + kBlock / kGroup - 1) / (kBlock / kGroup);
    blocks += l.blocks;
  }
  if (blocks > (int64_t{1} << 31) - 1) return cudaErrorInvalidValue;
  stash_kernel<kGroup, kPer, V, N><<<unsigned(blocks), unsigned(kBlock), 0, stream>>>(lays, in...);
  return cudaGetLastError();
}

// Strategy 3's launch: 256-thread blocks of 16 groups, kShortRows rows a group.
template <class... C>
cudaError_t launch_short_rows(cudaStream_t stream, const Instance<C>&... in) {
  constexpr int N = int(sizeof...(C));
  constexpr int64_t kRowsPerBlock = int64_t(kMinBlock / kShortGroup) * kShortRows;
  Layouts<N> lays{{plan(in, int64_t(kShortGroup) * kDeviceLanes)...}};
  int64_t blocks = 0;
  for (Layout& l : lays.l) {
    l.block_begin = blocks;
    l.blocks = (l.vrows + kRowsPerBlock - 1) / kRowsPerBlock;
    blocks += l.blocks;
  }
  if (blocks > (int64_t{1} << 31) - 1) return cudaErrorInvalidValue;
  short_rows_kernel<N><<<unsigned(blocks), unsigned(kMinBlock), 0, stream>>>(lays, in...);
  return cudaGetLastError();
}

// Picks the launch's group size for its widest row: kPer slots of V per thread.
template <int kPer, class V, class... C>
cudaError_t launch_groups(cudaStream_t stream, int64_t widest, const Instance<C>&... in) {
  constexpr int kCols = kPer * lanes_v<V>;  // columns per thread
  using First = std::tuple_element_t<0, std::tuple<C...>>;
  if constexpr (First::kReductions == 0) {
    // No reductions: short rows (rope's heads of 128, as floats) in single warps with half the
    // slots, rows of up to 128 threads' columns in 128-thread groups, anything longer in column
    // tiles of 256 threads. (Few shapes, not one per group size: eltwise alone instantiates 18
    // chains.)
    if constexpr (lanes_v<V> == 1) {
      if (widest <= kShortCols) return launch_stash<32, kPer / 2, V>(stream, in...);
      if (widest <= 128 * kCols) return launch_stash<128, kPer, V>(stream, in...);
      return launch_stash<kMinBlock, kPer, V>(stream, in...);
    } else {
      // Rows of at most 128 columns (rope's heads): 16 threads of one vector each cover a row
      // exactly (a group need not fill a warp when nothing is reduced), kShortRows rows a group.
      // Longer rows: column tiles of one warp up to a warp's columns, else of 64 threads. Only a
      // row's last tile can be partial, and its idle slots are at most a tile: with 4 slots, a
      // 256-thread tile (8192 columns) left half of a 4096-column row's slots idle.
      if (widest <= kShortGroup * lanes_v<V>) return launch_short_rows(stream, in...);
      if (widest <= 32 * kCols) return launch_stash<32, kPer, V>(stream, in...);
      return launch_stash<64, kPer, V>(stream, in...);
    }
  } else {
    // The smallest group whose registers hold the widest row.
    switch (group_for(widest, kCols, kMaxGroup)) {
      case 32:
        return launch_stash<32, kPer, V>(stream, in...);
      case 64:
        return launch_stash<64, kPer, V>(stream, in...);
      case 128:
        return launch_stash<128, kPer, V>(stream, in...);
      case 256:
        return launch_stash<256, kPer, V>(stream, in...);
      case 512:
        return launch_stash<512, kPer, V>(stream, in...);
      default:
        return launch_stash<1024, kPer, V>(stream, in...);
    }
  }
}

inline cudaError_t sm_count(int& sms) {
  int device = 0;
  if (cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return e;
  return cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
}

}  // namespace detail

// The largest rows*cols, rows and grid the runner accepts: blocks are counted in 32 bits.

// Whether run_many takes the vector path (DVecF: 8 consecutive columns per slot, whole 16-byte
// loads) for these instances: every op of every chain must allow it (VecCapable, and vec_ok for
// its pointers and strides), and every row length must be a multiple of the 8 lanes. Rows too
// long for registers (reducing chains beyond kStashCols) always run as floats.
template <class... C>
bool uses_vectors(const Instance<C>&... in) {
  if constexpr ((VecCapable<C> && ...)) {
    if (((C::kReductions > 0 && in.cols > kStashCols) || ...)) return false;
    return ((in.cols % kDeviceLanes == 0 && in.chain.vec_ok(kDeviceLanes)) && ...);
  } else {
    return false;
  }
}

// Launches every instance's chain in one kernel on `stream`. Pointers in the chains must be device
// pointers. Instances whose chains reduce over rows longer than kStashCols must come alone (they
// take the one-block-per-row kernel). Returns the launch error, if any (cudaErrorInvalidValue when
// the grid would not fit).
template <class... C>
cudaError_t run_many(const Launch& launch, const Instance<C>&... in) {
  const cudaStream_t stream = launch.stream;
  static_assert(sizeof...(C) >= 1);
  constexpr int per = detail::per_for<std::tuple_element_t<0, std::tuple<C...>>>();
  static_assert(((detail::per_for<C>() == per) && ...), "instances of one launch all reduce, or none does");
  const int64_t total = (int64_t{0} + ... + in.rows);
  if (total <= 0) return cudaSuccess;
  if (((in.rows > 0 && in.cols <= 0) || ...)) return cudaErrorInvalidValue;  // rows of no columns
  // Rows too long for registers: one block per row, recomputing (only for a single instance).
  const bool too_long = ((C::kReductions > 0 && in.cols > kStashCols) || ...);
  if (too_long) {
    if constexpr (sizeof...(C) == 1) {
      int sms = 0;
      if (cudaError_t e = detail::sm_count(sms); e != cudaSuccess) return e;
      const int64_t blocks = total < int64_t(sms) * 2 ? total : int64_t(sms) * 2;
      (detail::long_kernel<<<unsigned(blocks), kMaxGroup, 0, stream>>>(in), ...);
      return cudaGetLastError();
    } else {
      return cudaErrorInvalidValue;
    }
  }
  int64_t widest = 0;
  ((widest = in.cols > widest ? in.cols : widest), ...);
  if constexpr ((VecCapable<C> && ...)) {
    constexpr int kDefault = per != kPerMap ? kVecSlotsReduce : kVecSlotsMap;
    const int slots = launch.vec_slots != 0 ? launch.vec_slots : kDefault;
    if (slots != 2 && slots != 4) return cudaErrorInvalidValue;
    if (uses_vectors(in...))
      return slots == 2 ? detail::launch_groups<2, DVecF>(stream, widest, in...)
                        : detail::launch_groups<4, DVecF>(stream, widest, in...);
  }
  return detail::launch_groups<per, float>(stream, widest, in...);
}

template <class C>
cudaError_t run(const Launch& launch, const C& chain, int64_t rows, int64_t cols) {
  return run_many(launch, instance(chain, rows, cols));
}

}  // namespace tessel::fuse::cuda

#endif  // __CUDACC__
