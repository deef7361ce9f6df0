// CUDA gemm implementations: the warp-specialized TMA + wgmma kernel (cuda.wgmma), a swapped-operand
// variant for few rows (cuda.wgmma.skinny) and a plain SIMT kernel for shapes TMA cannot address
// (cuda.simt).
#include <cuda.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <string>
#include <type_traits>

#include "cuda_epilogue.cuh"
#include "cuda_gemm_model.hpp"
#include "cuda_split_workspace.hpp"
#include "gemm.hpp"
#include "tessel/cuda/tile.cuh"
#include "tessel/runtime/registry.hpp"

namespace tessel::gemm {
namespace cuda_kernels {

namespace tc = tessel::cuda;
using tc::bf16;

// =====================================================================================================
// The warp-specialized kernel
// =====================================================================================================
// One CTA per SM walks output tiles of 128 x BN. Warpgroup 0 is the producer: one thread streams
// 128x64 slices of A and BNx64 slices of B through a ring of `Stages` shared-memory stages with TMA.
// Warpgroups 1 and 2 are consumers: each owns 64 rows of the tile and multiplies them with one
// m64nBNk16 wgmma per 16 of K, keeping one batch in flight while it releases the stage before.
// The producer hands registers to the consumers (setmaxnreg 40 / 232); ptxas allocates the
// consumers' code to 232 (docs/tile-layer.md, lesson 2). The 128-float accumulator leaves room only
// because the fused epilogue runs rolled (epilogue::store_staged). A 288-thread variant (one
// producer warp, cap 224) compiled but failed to launch ("too many resources requested"): registers
// appear to be granted per warpgroup.

inline constexpr int kBM = 128;
inline constexpr int kBMColSplit = 64;  // ColSplit tiles (see wgmma_gemm_kernel)
inline constexpr int kBK = 64;
inline constexpr int kConsumers = 2;
inline constexpr int kThreads = (kConsumers + 1) * tc::kWarpgroupThreads;

template <class OutT>
struct WgmmaArgs {
  int m = 0, n = 0, k = 0;
  tc::TileScheduler sched;
  FusedEpilogue<OutT> ep;
  OutT* c = nullptr;
  int64_t ldc = 0;
  // What one stage's TMA loads bring: A's box, whose rows are min(128, m) (see launch_wgmma), and B's tile.
  uint32_t stage_bytes = 0;
  // Split K (SplitK kernels only): a unit of work is (tile, split); splits of one tile are adjacent
  // units. Partials go to workspace[tile][split][128][BN] (f32) and the CTA that finishes a tile's last
  // split adds them in split order, so the result does not depend on which split finished first.
  int splits = 1, kb_per_split = 0;
  float* workspace = nullptr;
  int* counters = nullptr;  // one per tile, zero between launches
};

template <class OutT, int BN, int Stages, bool BKN, int BM = kBM>
struct WgmmaGemm {
  using ATile = tc::st_bf<BM, kBK>;
  // b=kn stores B as [K,N]: a K-by-BN tile made of 64-column panels, read MN-major by wgmma.
  using BTile = std::conditional_t<BKN, tc::st_bf<kBK, BN>, tc::st_bf<BN, kBK>>;
  using Staging = tc::epilogue::staging_tile<OutT>;
  struct Shared {
    ATile a[Stages];
    BTile b[Stages];
    Staging staging[kConsumers][2];
    tc::Pipeline<Stages> pipe;
    int last;                // split K: whether this CTA reduces the tile
    tc::Barrier pair_full;   // PairK: the peer's partial has landed in `staging`
  };
  // Dynamic shared memory is only 16-byte aligned; the slack lets the kernel round up to 1024.
  static constexpr size_t kSmemBytes = sizeof(Shared) + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "the stage ring and staging tiles exceed shared memory");
  static_assert(sizeof(Staging) * 2 >= 64 * 64 * sizeof(float), "store_staged needs a 64x64 f32 tile per consumer");
};

// TmaStore picks the epilogue at compile time: TMA stores of plain results, or store_staged for fused
// epilogues and rows TMA cannot store. Both in one kernel would spill: ptxas allocates registers for
// the union of the two paths. SplitK walks (tile, split) units instead of tiles (see WgmmaArgs).
//
// PairK (with SplitK, two splits, BN = 64, one unit per CTA): the two CTAs of a cluster take the two
// halves of one tile's K, and the second hands its accumulators to the first through distributed
// shared memory (the first's staging tiles, 64 x 64 f32 per consumer), which adds them and runs the
// epilogue. Why: at m = 128, n = 4096 a tile's CTA pulls its operands at a fixed rate, so 128 CTAs on
// half of K each finish in 12.4 us against 17.9 us for 64 on all of it, but the workspace round trip
// of SplitK cost more than it saved (18.0 us; session 9, call 7). Pairs: 15.8 us, 1.12x (call 10).
//
// ColSplit (b=nk, no K splits; both epilogue paths): tiles of 64 x BN whose two consumers share A's 64 rows and take
// BN / 2 columns each, instead of 128 x BN tiles with 64 rows each. Where few rows of A make the CTAs
// stream their operands (m <= 128 with few weight tiles), a 64 x 96 CTA reads 1.25 MiB a K of 4096
// where a 128 x 48 CTA, the same outputs, reads 1.375 (A's rows are most of it).
template <class OutT, int BN, int Stages, bool BKN, bool TmaStore, bool SplitK = false, bool PairK = false,
          bool ColSplit = false>
__global__ void __launch_bounds__(kThreads, 1)
    wgmma_gemm_kernel(const __grid_constant__ CUtensorMap map_a, const __grid_constant__ CUtensorMap map_b,
                      const __grid_constant__ CUtensorMap map_c, const WgmmaArgs<OutT> args) {
  constexpr int BM = ColSplit ? kBMColSplit : kBM;
  constexpr int CN = ColSplit ? BN / 2 : BN;  // each consumer's columns
  using G = WgmmaGemm<OutT, BN, Stages, BKN, BM>;
  static_assert(!PairK || (SplitK && BN == 64), "PairK hands 64 x 64 f32 partials through the staging tiles");
  static_assert(!ColSplit || (!SplitK && !BKN && CN % 8 == 0), "ColSplit: b=nk, no K splits, whole n8 wgmma columns");
  extern __shared__ uint8_t smem_raw[];
  auto& sh = *reinterpret_cast<typename G::Shared*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) &
                                                    ~uintptr_t{1023});
  if (threadIdx.x == 0) {
    // Every warp of both consumers arrives once per stage it has finished reading.
    sh.pipe.init(kConsumers * tc::kWarpgroupWarps);
    if constexpr (PairK) {
      tc::init(sh.pair_full, kConsumers * tc::kWarpgroupThreads);  // every consumer thread of the peer
      tc::fence_barrier_init();
    }
    tc::tma::prefetch_map(map_a);
    tc::tma::prefetch_map(map_b);
    if constexpr (TmaStore) tc::tma::prefetch_map(map_c);
  }
  __syncthreads();
  if constexpr (PairK) tc::cluster::sync();  // the first CTA's pair_full is initialized before the peer arrives

  const tc::TileScheduler& sched = args.sched;
  const int k_blocks = static_cast<int>(tc::ceil_div(args.k, kBK));
  const int wg = tc::warpgroup_id();
  // Without SplitK, a unit is a tile and its K range is all of K; the constants fold away.
  const int splits = SplitK ? args.splits : 1;
  const int kb_per_split = SplitK ? args.kb_per_split : k_blocks;
  const int units = sched.total() * splits;

  if (wg == 0) {
    // ---- Producer -------------------------------------------------------------------------------------
    tc::warpgroup::decrease_registers<40>();
    if (threadIdx.x == 0) {
      tc::RingPosition<Stages> pos;
      for (int u = static_cast<int>(blockIdx.x); u < units; u += static_cast<int>(gridDim.x)) {
        const int2 tile = sched.coords(u / splits);
        const int m0 = tile.x * BM, n0 = tile.y * BN;
        const int kb0 = (u % splits) * kb_per_split, kb1 = min(kb0 + kb_per_split, k_blocks);
        for (int kb = kb0; kb < kb1; ++kb) {
          tc::Barrier& full = sh.pipe.producer_acquire(pos, args.stage_bytes);
          tc::tma::load_async(&sh.a[pos.stage], map_a, kb * kBK, m0, full);
          if constexpr (BKN) {
#pragma unroll
            for (int p = 0; p < G::BTile::panels; ++p)
              tc::tma::load_async(reinterpret_cast<char*>(&sh.b[pos.stage]) + p * G::BTile::panel_bytes, map_b,
                                  n0 + p * G::BTile::panel_cols, kb * kBK, full);
          } else {
            tc::tma::load_async(&sh.b[pos.stage], map_b, kb * kBK, n0, full);
          }
          pos.advance();
        }
      }
    }
    if constexpr (PairK) tc::cluster::arrive();  // the producer never touches the peer
  } else {
    // ---- Consumers ------------------------------------------------------------------------------------
    tc::warpgroup::increase_registers<232>();
    const int c = wg - 1;
    float acc[CN / 2];
    tc::RingPosition<Stages> pos;
    for (int u = static_cast<int>(blockIdx.x); u < units; u += static_cast<int>(gridDim.x)) {
      const int t = u / splits;
      const int2 tile = sched.coords(t);
      const int m0 = tile.x * BM, n0 = tile.y * BN;
      // This consumer's block of the tile: 64 rows of 128, or with ColSplit half of the columns.
      const int row0 = m0 + (ColSplit ? 0 : c * 64), col0 = n0 + (ColSplit ? c * CN : 0);
      const int kb0 = (u % splits) * kb_per_split, kb1 = min(kb0 + kb_per_split, k_blocks);
      int previous = 0;
      for (int kb = kb0; kb < kb1; ++kb) {
        sh.pipe.consumer_wait(pos);
        tc::wgmma::fence();
#pragma unroll
        for (int kk = 0; kk < kBK / 16; ++kk) {
          const uint64_t da = tc::desc_k_major(sh.a[pos.stage], ColSplit ? 0 : c * 64, kk * 16);
          uint64_t db;
          if constexpr (BKN) {
            db = tc::desc_mn_major(sh.b[pos.stage], kk * 16, 0);
          } else {
            db = tc::desc_k_major(sh.b[pos.stage], ColSplit ? c * CN : 0, kk * 16);
          }
          tc::wgmma::mma_bf16<CN, BKN>(acc, da, db, kb > kb0 || kk > 0);
        }
        tc::wgmma::commit();
        // The batch before this one is done once at most one batch is in flight: its stage is free.
        if (kb > kb0) {
          tc::wgmma::wait<1>();
          if (tc::lane_id() == 0) sh.pipe.consumer_release(previous);
        }
        previous = pos.stage;
        pos.advance();
      }
      tc::wgmma::wait<0>();
      tc::wgmma::fence_operands(acc);
      if (tc::lane_id() == 0) sh.pipe.consumer_release(previous);
      if constexpr (PairK) {
        // Split u % 2 is the CTA's rank in its cluster (one unit per CTA, clusters of two along x).
        float* buf = reinterpret_cast<float*>(sh.staging[c]);
        const int wt = static_cast<int>(threadIdx.x) % tc::kWarpgroupThreads;
        if (u % 2 == 1) {
          const uint32_t remote = tc::cluster::peer_addr(buf, 0);
#pragma unroll
          for (int i = 0; i < BN / 2; i += 4)
            tc::cluster::store_v4(remote + uint32_t(((i / 4) * tc::kWarpgroupThreads + wt) * 16), acc[i], acc[i + 1],
                                  acc[i + 2], acc[i + 3]);
          tc::cluster::arrive_release_on_peer(sh.pair_full, 0);
          tc::cluster::arrive();  // done with the peer (see the end of the kernel)
          continue;
        }
        tc::cluster::wait_acquire(sh.pair_full, 0);
#pragma unroll
        for (int i = 0; i < BN / 2; i += 4) {
          const float4 v = *reinterpret_cast<const float4*>(buf + ((i / 4) * tc::kWarpgroupThreads + wt) * 4);
          acc[i] += v.x;
          acc[i + 1] += v.y;
          acc[i + 2] += v.z;
          acc[i + 3] += v.w;
        }
        tc::warpgroup::sync(1 + c, tc::kWarpgroupThreads);  // every partial is read before the epilogue reuses staging
        tc::cluster::arrive();
      } else if constexpr (SplitK) {
        if (splits > 1 && !reduce_splits<BN>(acc, args.workspace, args.counters, u, t, splits, c, kConsumers, sh.last))
          continue;
      }
      if constexpr (!TmaStore) {
        // Also the path for rows TMA cannot store: its global stores are bounds-checked.
        tc::epilogue::store_staged<OutT, CN>(acc, reinterpret_cast<float*>(sh.staging[c]), args.c, args.ldc, args.m,
                                             args.n, row0, col0, 1 + c,
                                             [&](float v, int r, int col) { return args.ep.apply(v, r, col); });
      } else if constexpr (CN == 48) {  // the consumer's two staging tiles hold its 64 x 48 block unswizzled
        tc::epilogue::store_via_smem_plain<OutT, CN>(acc, reinterpret_cast<OutT*>(sh.staging[c]), map_c, row0, col0,
                                                     1 + c);
      } else {
        tc::epilogue::store_via_smem<OutT, CN>(acc, sh.staging[c], map_c, row0, col0, 1 + c,
                                               [](float&, float&, int, int) {});
      }
    }
    // Shared memory must outlive the TMA stores that read it.
    if (tc::warpgroup::is_leader()) tc::tma::store_wait<0>();
  }
  // Neither CTA of a pair exits while the other may still touch its shared memory. (pair_full already
  // orders the hand-off, but compute-sanitizer's racecheck only follows cluster barriers: without one
  // it reported the peer's stores as writes to a CTA that might have exited.) Every thread arrived as
  // soon as it was done with the peer, the first CTA's consumers before their epilogue, so this wait
  // costs nothing: a whole cluster::sync() here measured 0.5 us at m = 128 (session 9, call 9).
  if constexpr (PairK) tc::cluster::wait();
}

// =====================================================================================================
// The skinny kernel: few rows of A (decode-time shapes), B stored [N,K]
// =====================================================================================================
// With M <= 16 the weight B is what costs: M*N*K flops against N*K*2 bytes. The operands swap roles so
// the weight fills wgmma's 64-row A side and the few rows of A become its N side (16): each
// CTA computes C^T[64 rows of N, M] = B_tile . A^T over one split of K. Splits give every SM a stream of
// weight bytes even when N/64 is below the SM count; their f32 partials meet in a workspace, and the
// CTA that finishes last for a tile adds them in split order (deterministic) and runs the epilogue.

template <class OutT>
struct SkinnyArgs {
  int m = 0, n = 0, k = 0;
  int n_tiles = 0, splits = 1, kb_per_split = 0;
  float* workspace = nullptr;  // [splits][n][BMs] f32 partials, when splits > 1
  int* counters = nullptr;     // one per n tile, zero between launches
  OutT* c = nullptr;
  int64_t ldc = 0;
  FusedEpilogue<OutT> ep;
};

// Consumers warpgroups each own 64 rows of the weight tile. A stage holds KPanels 64-wide panels of K,
// so each weight row is read in runs of KPanels * 128 contiguous bytes (DRAM likes long runs); the
// stages fill shared memory, so that each SM keeps as many weight bytes in flight as it can.
template <int BMs, int Consumers, int KPanels>
struct SkinnyShape {
  static constexpr int rows = 64 * Consumers;  // weight rows (output columns) per CTA
  static constexpr int bk = kBK * KPanels;     // K per stage
  using WTile = tc::st_bf<rows, bk>;
  using XTile = tc::st_bf<BMs, bk>;
  static constexpr int stage_bytes = WTile::bytes + XTile::bytes;
  static constexpr int stages = std::min(24, (220 * 1024) / stage_bytes);
  struct Shared {
    WTile w[stages];
    XTile x[stages];
    tc::Pipeline<stages> pipe;
    int last;
  };
  static constexpr size_t smem_bytes = sizeof(Shared) + 1024;
  // The finished C^T tile, transposed back to [m][n], reuses the stages once the mainloop is over.
  static_assert(size_t(BMs) * rows * sizeof(float) <= sizeof(WTile) * stages, "epilogue tile must fit the stages");
  static_assert(smem_bytes <= 227 * 1024, "skinny stages exceed shared memory");
};

template <class OutT, int BMs, int Consumers, int KPanels>
__global__ void __launch_bounds__((Consumers + 1) * tc::kWarpgroupThreads, 1)
    skinny_gemm_kernel(const __grid_constant__ CUtensorMap map_w, const __grid_constant__ CUtensorMap map_x,
                       const SkinnyArgs<OutT> args) {
  using S = SkinnyShape<BMs, Consumers, KPanels>;
  constexpr int kStages = S::stages;
  constexpr int kConsumerThreads = Consumers * tc::kWarpgroupThreads;
  extern __shared__ uint8_t smem_raw[];
  auto& sh = *reinterpret_cast<typename S::Shared*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t{1023});
  if (threadIdx.x == 0) {
    sh.pipe.init(Consumers * tc::kWarpgroupWarps);
    tc::tma::prefetch_map(map_w);
    tc::tma::prefetch_map(map_x);
  }
  __syncthreads();
  const int n_tile = static_cast<int>(blockIdx.x) % args.n_tiles;
  const int split = static_cast<int>(blockIdx.x) / args.n_tiles;
  const int k_blocks = static_cast<int>(tc::ceil_div(args.k, S::bk));
  const int kb0 = split * args.kb_per_split;
  const int kb1 = min(kb0 + args.kb_per_split, k_blocks);
  const int n0 = n_tile * S::rows;

  const int wg = tc::warpgroup_id();
  if (wg == Consumers) {
    if (threadIdx.x == kConsumerThreads) {
      tc::RingPosition<kStages> pos;
      for (int kb = kb0; kb < kb1; ++kb) {
        tc::Barrier& full = sh.pipe.producer_acquire(pos, S::stage_bytes);
#pragma unroll
        for (int p = 0; p < KPanels; ++p) {
          tc::tma::load_async(reinterpret_cast<char*>(&sh.w[pos.stage]) + p * S::WTile::panel_bytes, map_w,
                              kb * S::bk + p * kBK, n0, full);
          tc::tma::load_async(reinterpret_cast<char*>(&sh.x[pos.stage]) + p * S::XTile::panel_bytes, map_x,
                              kb * S::bk + p * kBK, 0, full);
        }
        pos.advance();
      }
    }
    return;
  }

  float acc[BMs / 2];
#pragma unroll
  for (int i = 0; i < BMs / 2; ++i) acc[i] = 0.0f;
  tc::RingPosition<kStages> pos;
  int previous = 0;
  for (int kb = kb0; kb < kb1; ++kb) {
    sh.pipe.consumer_wait(pos);
    tc::wgmma::fence();
#pragma unroll
    for (int kk = 0; kk < S::bk / 16; ++kk)
      tc::wgmma::mma_bf16<BMs, false>(acc, tc::desc_k_major(sh.w[pos.stage], wg * 64, kk * 16),
                                      tc::desc_k_major(sh.x[pos.stage], 0, kk * 16), true);
    tc::wgmma::commit();
    if (kb > kb0) {
      tc::wgmma::wait<1>();
      if (tc::lane_id() == 0) sh.pipe.consumer_release(previous);
    }
    previous = pos.stage;
    pos.advance();
  }
  tc::wgmma::wait<0>();
  tc::wgmma::fence_operands(acc);

  using Frag = tc::wgmma::Fragment<BMs>;
  const int t = static_cast<int>(threadIdx.x);  // 0 .. kConsumerThreads-1
  const int r0 = wg * 64;                       // this warpgroup's first row of the tile
  if (args.splits > 1) {
    // Publish this split's partial, then count in; the last CTA of the tile reduces.
    float* mine = args.workspace + (size_t(split) * size_t(args.n) + size_t(n0)) * BMs;
#pragma unroll
    for (int i = 0; i < BMs / 2; i += 2) {
      const int r = r0 + Frag::row(i), cm = Frag::col(i);
      if (n0 + r < args.n) __stcg(reinterpret_cast<float2*>(mine + size_t(r) * BMs + cm), make_float2(acc[i], acc[i + 1]));
    }
    __threadfence();
    tc::warpgroup::sync(1, kConsumerThreads);
    if (t == 0) sh.last = atomicAdd(&args.counters[n_tile], 1) == args.splits - 1;
    tc::warpgroup::sync(1, kConsumerThreads);
    if (!sh.last) return;
    __threadfence();
#pragma unroll
    for (int i = 0; i < BMs / 2; ++i) acc[i] = 0.0f;
#pragma unroll 1
    for (int sp = 0; sp < args.splits; ++sp) {
      const float* part = args.workspace + (size_t(sp) * size_t(args.n) + size_t(n0)) * BMs;
#pragma unroll
      for (int i = 0; i < BMs / 2; i += 2) {
        const int r = r0 + Frag::row(i), cm = Frag::col(i);
        if (n0 + r < args.n) {
          const float2 v = __ldcg(reinterpret_cast<const float2*>(part + size_t(r) * BMs + cm));
          acc[i] += v.x;
          acc[i + 1] += v.y;
        }
      }
    }
    if (t == 0) args.counters[n_tile] = 0;  // ready for the next launch
  }
  // Transpose through shared memory (the stages are free now) so that each row of C is written by
  // consecutive threads.
  auto* out = reinterpret_cast<float(*)[S::rows]>(&sh.w[0]);
#pragma unroll
  for (int i = 0; i < BMs / 2; ++i) out[Frag::col(i)][r0 + Frag::row(i)] = acc[i];
  tc::warpgroup::sync(1, kConsumerThreads);
#pragma unroll 1
  for (int e = t; e < args.m * S::rows; e += kConsumerThreads) {
    const int mm = e / S::rows, nn = e % S::rows;
    if (n0 + nn < args.n)
      tc::epilogue::store_one(args.c + int64_t(mm) * args.ldc + n0 + nn, args.ep.apply(out[mm][nn], mm, n0 + nn));
  }
}

// =====================================================================================================
// The SIMT fallback
// =====================================================================================================
// Any shape, stride or alignment, f32 or bf16 inputs. 64x64 tiles, 16 of K at a time, each thread a
// 4x4 block of outputs spread 16 apart so that shared-memory reads do not conflict.

TESSEL_DEVICE float load_float(const float* p) { return *p; }
TESSEL_DEVICE float load_float(const bf16* p) { return __bfloat162float(*p); }

template <class TIn, class OutT, bool BKN>
__global__ void __launch_bounds__(256) simt_gemm_kernel(const TIn* __restrict__ a, int64_t lda,
                                                        const TIn* __restrict__ b, int64_t ldb, OutT* __restrict__ c,
                                                        int64_t ldc, int m, int n, int k, const FusedEpilogue<OutT> ep) {
  constexpr int kT = 64, kK = 16;
  __shared__ float as[kK][kT + 1];
  __shared__ float bs[kK][kT + 1];
  const int tx = static_cast<int>(threadIdx.x) % 16, ty = static_cast<int>(threadIdx.x) / 16;
  const int m0 = static_cast<int>(blockIdx.y) * kT, n0 = static_cast<int>(blockIdx.x) * kT;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < k; k0 += kK) {
    for (int e = static_cast<int>(threadIdx.x); e < kT * kK; e += 256) {
      const int kk = e % kK, mm = e / kK;
      const int gm = m0 + mm, gk = k0 + kk;
      as[kk][mm] = (gm < m && gk < k) ? load_float(a + int64_t(gm) * lda + gk) : 0.0f;
      int nn, kb;
      if constexpr (BKN) {
        nn = e % kT;
        kb = e / kT;
      } else {
        kb = e % kK;
        nn = e / kK;
      }
      const int gn = n0 + nn, gkb = k0 + kb;
      float bv = 0.0f;
      if (gn < n && gkb < k) bv = BKN ? load_float(b + int64_t(gkb) * ldb + gn) : load_float(b + int64_t(gn) * ldb + gkb);
      bs[kb][nn] = bv;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kK; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = as[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int r = m0 + ty + 16 * i, col = n0 + tx + 16 * j;
      if (r < m && col < n) tc::epilogue::store_one(c + int64_t(r) * ldc + col, ep.apply(acc[i][j], r, col));
    }
  }
}

}  // namespace cuda_kernels

// =====================================================================================================
// Launchers and implementations
// =====================================================================================================
namespace {

namespace ck = cuda_kernels;
namespace tc = tessel::cuda;
using tc::bf16;

Status cuda_failure(const std::string& impl, const char* call, cudaError_t e) {
  return Status::error(StatusCode::backend_error, "gemm", impl + ": " + call, cudaGetErrorString(e));
}

int sm_count() {
  static const int count = [] {
    int dev = 0, n = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
      return 132;
    return n;
  }();
  return count;
}

// The tensors of one gemm call, checked against what the kernels assume: device memory, rows
// contiguous (stride 1 in the last dimension); and how the TMA maps of A and B fetch them into L2
// (the tunable "l2_promotion").
struct Operands {
  const TensorView* a = nullptr;
  const TensorView* b = nullptr;
  const TensorView* bias = nullptr;
  const TensorView* residual = nullptr;
  const TensorView* scale_a = nullptr;
  const TensorView* scale_b = nullptr;
  const TensorView* c = nullptr;
  tc::L2Promotion promotion = tc::L2Promotion::b256;
};

// The tunable "l2_promotion" (bytes L2 fetches per TMA request of A and B: 0 = only the request's).
tc::L2Promotion promotion_of(int64_t bytes) {
  return bytes == 0 ? tc::L2Promotion::none : bytes == 128 ? tc::L2Promotion::b128 : tc::L2Promotion::b256;
}

Result<Operands> bind(const Shape& s, std::span<const TensorView> t, const std::string& impl) {
  const TensorIndex ix = TensorIndex::of(s);
  if (static_cast<int>(t.size()) != ix.c + 1)
    return Status::invalid("gemm", impl, "expected " + std::to_string(ix.c + 1) + " tensors, got " + std::to_string(t.size()));
  Operands o;
  o.a = &t[size_t(ix.a)];
  o.b = &t[size_t(ix.b)];
  o.c = &t[size_t(ix.c)];
  if (ix.bias >= 0) o.bias = &t[size_t(ix.bias)];
  if (ix.residual >= 0) o.residual = &t[size_t(ix.residual)];
  if (ix.scale_a >= 0) o.scale_a = &t[size_t(ix.scale_a)];
  if (ix.scale_b >= 0) o.scale_b = &t[size_t(ix.scale_b)];
  for (const TensorView* v : {o.a, o.b, o.c, o.bias, o.residual, o.scale_a, o.scale_b}) {
    if (v == nullptr) continue;
    if (v->device != Device::cuda) return Status::invalid("gemm", impl, "tensors must be in CUDA device memory");
    if (v->rank() == 2 && v->stride(1) != 1)
      return Status::invalid("gemm", impl, "rows must be contiguous (stride 1 in the last dimension)");
  }
  return o;
}

template <class OutT>
ck::FusedEpilogue<OutT> make_epilogue(const Shape& s, const Operands& o) {
  ck::FusedEpilogue<OutT> ep;
  ep.bias = o.bias ? static_cast<const OutT*>(o.bias->data) : nullptr;
  ep.residual = o.residual ? static_cast<const OutT*>(o.residual->data) : nullptr;
  ep.ld_residual = o.residual ? o.residual->stride(0) : 0;
  ep.scale_a = o.scale_a ? static_cast<const float*>(o.scale_a->data) : nullptr;
  ep.scale_b = o.scale_b ? static_cast<const float*>(o.scale_b->data) : nullptr;
  ep.act = static_cast<int>(s.act);
  ep.rows = static_cast<int>(s.m);
  ep.cols = static_cast<int>(s.n);
  return ep;
}

// ---- cuda.wgmma -------------------------------------------------------------------------------------

template <class OutT, int BN, int Stages, bool BKN, bool TmaStore, bool SplitK = false, bool PairK = false,
          bool ColSplit = false>
Status launch_wgmma(const Shape& s, const Operands& o, int group_rows, cudaStream_t stream, int splits = 1) {
  constexpr int BM = ColSplit ? ck::kBMColSplit : ck::kBM, CN = ColSplit ? BN / 2 : BN;
  using G = ck::WgmmaGemm<OutT, BN, Stages, BKN, BM>;
  const std::string impl = "cuda.wgmma";
  static std::once_flag once;
  static cudaError_t attr_error = cudaSuccess;
  std::call_once(once, [] {
    attr_error = cudaFuncSetAttribute(ck::wgmma_gemm_kernel<OutT, BN, Stages, BKN, TmaStore, SplitK, PairK, ColSplit>,
                                      cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(G::kSmemBytes));
  });
  if (attr_error != cudaSuccess) return cuda_failure(impl, "cudaFuncSetAttribute", attr_error);

  CUtensorMap map_a, map_b, map_c;
  const tc::gl<bf16> ga{static_cast<bf16*>(o.a->data), s.m, s.k, o.a->stride(0)};
  const tc::gl<bf16> gb{static_cast<bf16*>(o.b->data), BKN ? s.k : s.n, BKN ? s.n : s.k, o.b->stride(0)};
  const tc::gl<OutT> gc{static_cast<OutT*>(o.c->data), s.m, s.n, o.c->stride(0)};
  // A's box is at most m rows: TMA's zero fill of rows past the tensor is slow. With a 128-row box, m = 64
  // took 31.7 us and m = 100 26.9 us where m = 128 took 19.9 (n = 6144, k = 4096; cuBLASLt 17.9-19.7;
  // H200, session 13). The stale rows past m in shared memory only reach accumulator rows that are
  // never stored.
  const int a_rows = static_cast<int>(std::min<int64_t>(BM, s.m));
  std::string err = tc::make_tma_map(&map_a, ga, a_rows, ck::kBK, true, o.promotion);
  if (err.empty())
    err = BKN ? tc::make_tma_map(&map_b, gb, ck::kBK, 64, true, o.promotion)
              : tc::make_tma_map(&map_b, gb, BN, ck::kBK, true, o.promotion);
  if (err.empty() && TmaStore)
    err = CN == 48 ? tc::make_tma_map(&map_c, gc, 64, CN, /*swizzle_128b=*/false)  // store_via_smem_plain
                   : tc::make_tma_map(&map_c, gc, 64, G::Staging::cols);
  if (!TmaStore) map_c = map_a;  // a valid map the kernel never uses
  if (!err.empty()) return Status::invalid("gemm", impl, err);

  ck::WgmmaArgs<OutT> args;
  args.m = static_cast<int>(s.m);
  args.n = static_cast<int>(s.n);
  args.k = static_cast<int>(s.k);
  args.sched.tiles_m = static_cast<int>(tc::ceil_div(s.m, BM));
  args.sched.tiles_n = static_cast<int>(tc::ceil_div(s.n, BN));
  args.sched.group_rows = std::max(1, group_rows);
  args.ep = make_epilogue<OutT>(s, o);
  args.c = static_cast<OutT*>(o.c->data);
  args.ldc = o.c->stride(0);
  args.stage_bytes = static_cast<uint32_t>(a_rows * ck::kBK * sizeof(bf16) + G::BTile::bytes);
  if constexpr (SplitK)  // a pair's partials stay on chip
    TESSEL_RETURN_IF_ERROR(bind_k_split(impl, static_cast<int>(tc::ceil_div(s.k, ck::kBK)), splits,
                                        size_t(ck::kBM) * BN, !PairK, args));
  const int grid = std::min(args.sched.total() * args.splits, sm_count());
  if constexpr (PairK) {
    // One (tile, split) per CTA, the two splits of a tile side by side in a cluster of two.
    if (args.splits != 2 || grid != args.sched.total() * 2)
      return Status::error(StatusCode::internal, "gemm", impl, "a cluster pair needs two splits and one wave of pairs");
    tc::cluster::ClusterLaunch launch(unsigned(grid), ck::kThreads, 2, G::kSmemBytes, stream);
    if (cudaError_t e = cudaLaunchKernelEx(&launch.config, ck::wgmma_gemm_kernel<OutT, BN, Stages, BKN, TmaStore, true, true>,
                                           map_a, map_b, map_c, args);
        e != cudaSuccess)
      return cuda_failure(impl, "cluster launch", e);
    return {};
  }
  ck::wgmma_gemm_kernel<OutT, BN, Stages, BKN, TmaStore, SplitK, false, ColSplit>
      <<<grid, ck::kThreads, G::kSmemBytes, stream>>>(map_a, map_b, map_c, args);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return cuda_failure(impl, "kernel launch", e);
  return {};
}

// TMA stores C when the epilogue is plain and C's rows are whole 16-byte units at 16-byte aligned
// addresses. (With rows ending inside a 16-byte unit, a TMA store clipped at the right edge got the
// straddling unit's 4 columns wrong in a device test.) Everything else goes through store_staged's guarded stores.
template <class OutT>
bool tma_store_ok(const Shape& s, const Operands& o, bool force_staged) {
  const bool fused = s.bias || s.residual || s.act != Activation::none || o.scale_a != nullptr;
  const tc::gl<OutT> gc{static_cast<OutT*>(o.c->data), s.m, s.n, o.c->stride(0)};
  return !force_staged && !fused && gc.tma_compatible() && (s.n * int64_t(sizeof(OutT))) % 16 == 0;
}

template <class OutT, bool BKN>
Status dispatch_wgmma_tile(const Shape& s, const Operands& o, int tile_n, int group, bool force_staged, int splits,
                           bool pair, cudaStream_t stream) {
  const bool tma = tma_store_ok<OutT>(s, o, force_staged);
  // Split K runs 128-wide tiles, b=nk (the LLM weight layout, where few rows of A leave SMs idle).
  if constexpr (!BKN) {
    if (pair) {  // wgmma_pair_k: 64-wide tiles, two splits in a cluster
      return tma ? launch_wgmma<OutT, 64, 7, BKN, true, true, true>(s, o, group, stream, 2)
                 : launch_wgmma<OutT, 64, 7, BKN, false, true, true>(s, o, group, stream, 2);
    }
    if (tile_n == 64) {  // few rows of A: more, smaller stages (see wgmma_auto_tile_n)
      if (splits > 1)
        return tma ? launch_wgmma<OutT, 64, 7, BKN, true, true>(s, o, group, stream, splits)
                   : launch_wgmma<OutT, 64, 7, BKN, false, true>(s, o, group, stream, splits);
      return tma ? launch_wgmma<OutT, 64, 7, BKN, true>(s, o, group, stream)
                 : launch_wgmma<OutT, 64, 7, BKN, false>(s, o, group, stream);
    }
    if (splits > 1) {
      return tma ? launch_wgmma<OutT, 128, 6, BKN, true, true>(s, o, group, stream, splits)
                 : launch_wgmma<OutT, 128, 6, BKN, false, true>(s, o, group, stream, splits);
    }
    if (tile_n == 48)  // 8 stages of 22 KiB; see wgmma_auto_tile_n
      return tma ? launch_wgmma<OutT, 48, 8, BKN, true>(s, o, group, stream)
                 : launch_wgmma<OutT, 48, 8, BKN, false>(s, o, group, stream);
    if (tile_n == 96)  // 64 x 96 tiles, two consumers of 48 columns: 9 stages of 20 KiB
      return tma ? launch_wgmma<OutT, 96, 9, BKN, true, false, false, true>(s, o, group, stream)
                 : launch_wgmma<OutT, 96, 9, BKN, false, false, false, true>(s, o, group, stream);
  }
  if (tile_n == 128) {
    return tma ? launch_wgmma<OutT, 128, 6, BKN, true>(s, o, group, stream)
               : launch_wgmma<OutT, 128, 6, BKN, false>(s, o, group, stream);
  }
  return tma ? launch_wgmma<OutT, 256, 4, BKN, true>(s, o, group, stream)
             : launch_wgmma<OutT, 256, 4, BKN, false>(s, o, group, stream);
}

// The tiling the host-side model reasons about is these kernels' own.
static_assert(ck::kBM == kWgmmaTileM && ck::kBMColSplit == kWgmmaColSplitTileM && ck::kBK == kWgmmaTileK,
              "cuda_gemm_model.hpp must match the kernel tiles");

class WgmmaImpl final : public Implementation {
 public:
  std::string name() const override { return "cuda.wgmma"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cuda; }
  int priority() const override { return 100; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in != DType::bf16) return Support::no("cuda.wgmma: dtype=bf16 only");
    if (s.scaling != Scaling::none) return Support::no("cuda.wgmma: no fp8 scaling");
    if (s.k % 8 != 0)
      return Support::no("cuda.wgmma: k must be a multiple of 8: TMA needs 16-byte aligned row strides and the "
                         "rows of A (and of B when b=nk) are k bf16 values long; cuda.simt takes any k");
    if (s.b == BLayout::kn && s.n % 8 != 0)
      return Support::no("cuda.wgmma: with b=kn, n must be a multiple of 8: TMA needs 16-byte aligned row strides "
                         "and the rows of B are n bf16 values long; b=nk or cuda.simt take any n");
    if (s.m > (int64_t{1} << 31) - 256 || s.n > (int64_t{1} << 31) - 256)
      return Support::no("cuda.wgmma: m and n must fit 32-bit tile coordinates");
    return Support::yes();
  }

  std::vector<Tunable> config_space(const Problem&) const override {
    // tile_n: 0 = chosen per shape (wgmma_auto_tile_n); 64, 48 and 96 (64 x 96 tiles, two consumers of 48
    // columns) apply to b=nk (b=kn runs 128). epilogue:
    // 0 = TMA stores where they apply, 1 = always store_staged.
    // splits: 0 = chosen per shape (wgmma_auto_splits), else that many K splits (b=nk; 64-wide tiles with
    // tile_n=64, else 128-wide). cluster_k: 0 = chosen, 1 = off, 2 = two splits as a cluster pair
    // reduced in distributed shared memory where wgmma_pair_k allows it (the other tunables then
    // only pick the epilogue and raster order).
    // l2_promotion: bytes L2 fetches per TMA request of A and B (0: the request's own). 256 by default:
    // 128 measured 0.974-1.016x on the m = 128 layers, 0.996-1.004x on compute-bound rows and
    // 0.940-1.003x at m = 16-64 (H200, session 21, calls 6 and 12), where the skinny kernel gains 3-4%.
    return {{"tile_n", {0, 256, 128, 64, 48, 96}},
            {"raster_group", {8, 4, 16}},
            {"epilogue", {0, 1}},
            {"splits", {0, 1, 2, 4}},
            {"cluster_k", {0, 1, 2}},
            {"l2_promotion", {256, 128, 0}}};
  }

  // The tile width and K splits decide how many waves of tiles the SMs run and whether partials round
  // trip (cuda_gemm_model.hpp). raster_group and epilogue are not modeled: their configs tie, and the
  // tuner measures the ones nearest the default first.
  double predict_seconds(const Problem& p, const Config& config, const Work& work,
                         const Roofline& roof) const override {
    const Shape s = Shape::from(p);
    const auto space = config_space(p);
    const int sms = roof.units > 0 ? roof.units : kHopperSms;
    const WgmmaPlan plan = wgmma_plan(s, static_cast<int>(config_value(config, space, "tile_n")),
                                      static_cast<int>(config_value(config, space, "splits")), sms,
                                      static_cast<int>(config_value(config, space, "cluster_k")));
    return wgmma_predict_seconds(s, plan, work, roof);
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> tensors,
             const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("gemm", name(), sup.reason);
    Result<Operands> o = bind(s, tensors, name());
    if (!o.ok()) return o.status();
    const auto space = config_space(p);
    o->promotion = promotion_of(config_value(config, space, "l2_promotion"));
    const int sms = sm_count();
    int tile_n = static_cast<int>(config_value(config, space, "tile_n"));
    int splits = static_cast<int>(config_value(config, space, "splits"));
    const bool pair = wgmma_pair_k(s, tile_n, splits, static_cast<int>(config_value(config, space, "cluster_k")), sms);
    if (tile_n == 0) tile_n = wgmma_auto_tile_n(s, sms);
    if ((tile_n <= 64 || tile_n == 96) && s.b == BLayout::kn) tile_n = 128;  // 48, 64, 96: built for b=nk only
    const int group = static_cast<int>(config_value(config, space, "raster_group"));
    const bool staged = config_value(config, space, "epilogue") == 1;
    if (splits == 0) splits = wgmma_auto_splits(s, tile_n, sms);
    auto stream = static_cast<cudaStream_t>(ctx.stream);
    if (s.out == DType::bf16) {
      return s.b == BLayout::kn ? dispatch_wgmma_tile<bf16, true>(s, *o, tile_n, group, staged, splits, pair, stream)
                                : dispatch_wgmma_tile<bf16, false>(s, *o, tile_n, group, staged, splits, pair, stream);
    }
    return s.b == BLayout::kn ? dispatch_wgmma_tile<float, true>(s, *o, tile_n, group, staged, splits, pair, stream)
                              : dispatch_wgmma_tile<float, false>(s, *o, tile_n, group, staged, splits, pair, stream);
  }
};

// ---- cuda.wgmma.skinny ----------------------------------------------------------------------------

// Splits of K, when the weight tiles alone leave most SMs idle. Measured on the H200 (2026-11-28,
// m=16, 256-wide K stages): with 64 or more weight tiles one split per tile was fastest every time
// (n=6144: 23.5 us unsplit against 29.1 us with 4 splits), because the partials' round trip and the
// last CTA's serial reduction cost more than the idle SMs. So split only below a quarter of the SMs,
// up to about half of them busy, keeping at least 2 K stages per split.
int choose_splits(int n_tiles, int k_blocks, int sms) {
  if (n_tiles >= sms / 4) return 1;
  const int want = static_cast<int>(tc::ceil_div(sms / 2, n_tiles));
  return std::max(1, std::min(want, k_blocks / 2));
}

template <class OutT, int BMs, int Consumers, int KPanels>
Status launch_skinny(const Shape& s, const Operands& o, int splits_wanted, cudaStream_t stream) {
  const std::string impl = "cuda.wgmma.skinny";
  using S = ck::SkinnyShape<BMs, Consumers, KPanels>;
  constexpr size_t smem = S::smem_bytes;
  static std::once_flag once;
  static cudaError_t attr_error = cudaSuccess;
  std::call_once(once, [] {
    attr_error = cudaFuncSetAttribute(ck::skinny_gemm_kernel<OutT, BMs, Consumers, KPanels>,
                                      cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(smem));
  });
  if (attr_error != cudaSuccess) return cuda_failure(impl, "cudaFuncSetAttribute", attr_error);

  CUtensorMap map_w, map_x;
  const tc::gl<bf16> gw{static_cast<bf16*>(o.b->data), s.n, s.k, o.b->stride(0)};
  const tc::gl<bf16> gx{static_cast<bf16*>(o.a->data), s.m, s.k, o.a->stride(0)};
  std::string err = tc::make_tma_map(&map_w, gw, S::rows, ck::kBK, true, o.promotion);
  if (err.empty()) err = tc::make_tma_map(&map_x, gx, BMs, ck::kBK, true, o.promotion);
  if (!err.empty()) return Status::invalid("gemm", impl, err);

  ck::SkinnyArgs<OutT> args;
  args.m = static_cast<int>(s.m);
  args.n = static_cast<int>(s.n);
  args.k = static_cast<int>(s.k);
  args.n_tiles = static_cast<int>(tc::ceil_div(s.n, S::rows));
  const int k_blocks = static_cast<int>(tc::ceil_div(s.k, S::bk));
  int splits = splits_wanted > 0 ? splits_wanted : choose_splits(args.n_tiles, k_blocks, sm_count());
  splits = std::clamp(splits, 1, k_blocks);
  args.kb_per_split = static_cast<int>(tc::ceil_div(k_blocks, splits));
  args.splits = static_cast<int>(tc::ceil_div(k_blocks, args.kb_per_split));
  args.c = static_cast<OutT*>(o.c->data);
  args.ldc = o.c->stride(0);
  args.ep = make_epilogue<OutT>(s, o);
  if (args.splits > 1) {
    SplitWorkspace& w = split_workspace();
    TESSEL_RETURN_IF_ERROR(w.ensure(impl, size_t(args.splits) * size_t(s.n) * BMs * sizeof(float), size_t(args.n_tiles)));
    args.workspace = w.partials;
    args.counters = w.counters;
  }
  const int grid = args.n_tiles * args.splits;
  ck::skinny_gemm_kernel<OutT, BMs, Consumers, KPanels>
      <<<grid, (Consumers + 1) * tc::kWarpgroupThreads, smem, stream>>>(map_w, map_x, args);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return cuda_failure(impl, "kernel launch", e);
  return {};
}

template <class OutT>
Status dispatch_skinny(const Shape& s, const Operands& o, int splits, bool narrow, bool wide, cudaStream_t stream) {
  // One consumer per CTA gives the most CTAs. `wide`: 128-row weight tiles whose two consumers share
  // each stage of A (skinny_tile_rows).
  if (s.m > 16) return Status::unsupported("gemm", "cuda.wgmma.skinny", "m > 16");
  if (wide) return launch_skinny<OutT, 16, 2, 4>(s, o, splits, stream);
  return narrow ? launch_skinny<OutT, 16, 1, 1>(s, o, splits, stream) : launch_skinny<OutT, 16, 1, 4>(s, o, splits, stream);
}

class SkinnyImpl final : public Implementation {
 public:
  std::string name() const override { return "cuda.wgmma.skinny"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cuda; }
  // Ahead of cuda.wgmma: it only says yes where few rows make the weight stream the cost.
  int priority() const override { return 110; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in != DType::bf16) return Support::no("cuda.wgmma.skinny: dtype=bf16 only");
    if (s.scaling != Scaling::none) return Support::no("cuda.wgmma.skinny: no fp8 scaling");
    // Above 16 rows cuda.wgmma (A's box clamped to m rows) ran 1.03-1.33x faster on every shape measured
    // (m = 24-64, n = 4096-28672; H200, session 13, call 7), so this kernel's 32- and 64-row variants went.
    if (s.m > 16) return Support::no("cuda.wgmma.skinny: m <= 16 only (cuda.wgmma is faster for larger m)");
    if (s.b != BLayout::nk) return Support::no("cuda.wgmma.skinny: b=nk only (the weight is read K-major)");
    if (s.k % 8 != 0)
      return Support::no("cuda.wgmma.skinny: k must be a multiple of 8: TMA needs 16-byte aligned row strides "
                         "and the rows of A and B are k bf16 values long; cuda.simt takes any k");
    if (s.n > (int64_t{1} << 31) - 64 || s.k > (int64_t{1} << 31) - 64)
      return Support::no("cuda.wgmma.skinny: n and k must fit 32 bits");
    return Support::yes();
  }

  // splits: 0 = chosen from the SM count; k_panels: 0 = 256-wide K stages, 1 = 64-wide; tile_rows: weight
  // rows per CTA, 0 = chosen (skinny_tile_rows), 64, or 128 (two consumers sharing each stage of A);
  // l2_promotion: bytes L2 fetches per TMA request of the weight and A (0: the request's own). 128 by
  // default: side by side with 256 (H200, session 21, call 6, 3 rounds) 1.028-1.042x faster on the
  // m <= 16 rows whose weight streams at 84-87% of copy (n = k = 8192, n = 6144 and 28672), 1.005-1.009x
  // on the two that stream at 54% and 83% (n = 4096); 0 measured the same as 128 (0.997-1.041x).
  std::vector<Tunable> config_space(const Problem&) const override {
    return {{"splits", {0, 1, 2, 4}}, {"k_panels", {0, 1}}, {"tile_rows", {0, 64, 128}}, {"l2_promotion", {128, 256, 0}}};
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> tensors,
             const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("gemm", name(), sup.reason);
    Result<Operands> o = bind(s, tensors, name());
    if (!o.ok()) return o.status();
    const int splits = static_cast<int>(config_value(config, config_space(p), "splits"));
    const bool narrow = config_value(config, config_space(p), "k_panels") == 1;
    const int64_t rows = config_value(config, config_space(p), "tile_rows");
    const bool wide = (rows == 0 ? skinny_tile_rows(s, sm_count()) : rows) == 128;
    o->promotion = promotion_of(config_value(config, config_space(p), "l2_promotion"));
    auto stream = static_cast<cudaStream_t>(ctx.stream);
    return s.out == DType::bf16 ? dispatch_skinny<bf16>(s, *o, splits, narrow, wide, stream)
                                : dispatch_skinny<float>(s, *o, splits, narrow, wide, stream);
  }
};

// ---- cuda.simt ----------------------------------------------------------------------------------------

template <class TIn, class OutT>
Status launch_simt(const Shape& s, const Operands& o, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(tc::ceil_div(s.n, 64)), static_cast<unsigned>(tc::ceil_div(s.m, 64)));
  const auto ep = make_epilogue<OutT>(s, o);
  const auto* a = static_cast<const TIn*>(o.a->data);
  const auto* b = static_cast<const TIn*>(o.b->data);
  auto* c = static_cast<OutT*>(o.c->data);
  if (s.b == BLayout::kn) {
    ck::simt_gemm_kernel<TIn, OutT, true><<<grid, 256, 0, stream>>>(a, o.a->stride(0), b, o.b->stride(0), c,
                                                                    o.c->stride(0), int(s.m), int(s.n), int(s.k), ep);
  } else {
    ck::simt_gemm_kernel<TIn, OutT, false><<<grid, 256, 0, stream>>>(a, o.a->stride(0), b, o.b->stride(0), c,
                                                                     o.c->stride(0), int(s.m), int(s.n), int(s.k), ep);
  }
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return cuda_failure("cuda.simt", "kernel launch", e);
  return {};
}

class SimtImpl final : public Implementation {
 public:
  std::string name() const override { return "cuda.simt"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cuda; }
  int priority() const override { return 10; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in != DType::bf16 && s.in != DType::f32) return Support::no("cuda.simt: dtype=f32 or bf16 only");
    if (s.m >= (int64_t{1} << 31) || s.n >= (int64_t{1} << 31) || s.k >= (int64_t{1} << 31))
      return Support::no("cuda.simt: sizes must fit 32 bits");
    if (tc::ceil_div(s.m, 64) > 65535) return Support::no("cuda.simt: m is above 64 * 65535");
    return Support::yes();
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> tensors, const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("gemm", name(), sup.reason);
    Result<Operands> o = bind(s, tensors, name());
    if (!o.ok()) return o.status();
    auto stream = static_cast<cudaStream_t>(ctx.stream);
    if (s.in == DType::f32) return launch_simt<float, float>(s, *o, stream);
    if (s.out == DType::f32) return launch_simt<bf16, float>(s, *o, stream);
    return launch_simt<bf16, bf16>(s, *o, stream);
  }
};

}  // namespace

SplitWorkspace& split_workspace() {
  static auto* w = new SplitWorkspace;  // never freed: kernels may still use it at exit
  return *w;
}

void register_cuda(Registry& r);
void register_cuda(Registry& r) {
  r.add_impl(std::make_unique<WgmmaImpl>());
  r.add_impl(std::make_unique<SkinnyImpl>());
  r.add_impl(std::make_unique<SimtImpl>());
}

}  // namespace tessel::gemm
