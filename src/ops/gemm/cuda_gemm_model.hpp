// Host-side tiling choices and the cost model of the Hopper gemm kernels (cuda.wgmma, cuda.wgmma.fp8,
// and cuda.wgmma.skinny's tile rows).
// Plain C++, so the CPU build compiles and tests the arithmetic that the .cu files use on the device.
#pragma once

#include "gemm.hpp"
#include "tessel/runtime/op.hpp"

namespace tessel::gemm {

// The kernels' CTA tile: 128 rows of A, and 64 of K per stage in bf16 (128 in fp8: one 128-byte row),
// static_asserted against the kernels.
inline constexpr int kWgmmaTileM = 128;
// tile_n = 96 runs 64 x 96 tiles: two consumers share A's 64 rows and take 48 columns each.
inline constexpr int kWgmmaColSplitTileM = 64;
inline constexpr int wgmma_tile_m(int tile_n) { return tile_n == 96 ? kWgmmaColSplitTileM : kWgmmaTileM; }
inline constexpr int kWgmmaTileK = 64;
inline constexpr int kWgmmaFp8TileK = 128;
// Used when the ceilings carry no SM count (no probe): the H100/H200 SXM, the parts sm_90a targets.
inline constexpr int kHopperSms = 132;

// cuda.wgmma's choices when its config says 0 ("auto"); see the measurements in cuda_gemm_model.cpp.
int wgmma_auto_tile_n(const Shape& s, int sms);
int wgmma_auto_splits(const Shape& s, int tile_n, int sms);
// cuda.wgmma.fp8's: the tile width (96 or 64 for per-tensor scales at few rows of A, 192 or 128 for
// block scales: wgmma_fp8_block_tile_n), and whether
// per-tensor scaling accumulates fast by default (one K block) rather than promoting.
int wgmma_fp8_auto_tile_n(const Shape& s, int sms);
int wgmma_fp8_block_tile_n(const Shape& s, int sms);
bool wgmma_fp8_fast_by_default(const Shape& s);

// cuda.wgmma.skinny's weight rows per CTA when its tile_rows config is 0: 64, or 128 (two consumer
// warpgroups sharing each stage of A) where m > 8 and 128-row tiles fill every SM.
int skinny_tile_rows(const Shape& s, int sms);

// Whether cuda.wgmma's split K can run as pairs of CTAs (clusters of two) that add their partials in
// distributed shared memory: 128 x 64 tiles of a b=nk weight, twice the tile count within one wave,
// and at least two K stages. cluster_k: 0 = chosen (on where it applies, unless K splits were asked
// for, with K >= 1024), 1 = off, 2 = on where it applies.
bool wgmma_pair_k(const Shape& s, int tile_n, int splits, int cluster_k, int sms);

// What a kernel launch actually runs: the tile width and the number of K splits (after clamping:
// no empty split), and whether they are a cluster pair.
struct WgmmaPlan {
  int tile_n = 128;
  int splits = 1;
  int64_t k_per_split = 0;  // the K one split covers, whole stages
  bool pair = false;        // two splits in a cluster, reduced on chip (wgmma_pair_k)
};
// The plan cuda.wgmma runs for a config (tile_n, splits; 0 = auto; cluster_k as wgmma_pair_k), as its
// run() resolves it.
WgmmaPlan wgmma_plan(const Shape& s, int tile_n, int splits, int sms, int cluster_k = 1);
// The plan cuda.wgmma.fp8 runs (accum 0 auto / 1 promote / 2 fast; tile_n 0 auto; never split).
WgmmaPlan wgmma_fp8_plan(const Shape& s, int accum, int tile_n, int sms, int splits = 0);
// K splits for block-scaled 128 x 64 tiles that still leave SMs idle (1 for every other tiling).
int wgmma_fp8_block_splits(const Shape& s, int tile_n, int sms);

// The predicted seconds of a plan: whole waves of tiles over the SMs, each tile's flops at one SM's
// share of the matrix rate, plus the split-K partials' round trip at copy bandwidth, and never below
// the roofline bound of `work`. `roof.units` is the SM count (kHopperSms when 0).
double wgmma_predict_seconds(const Shape& s, const WgmmaPlan& plan, const Work& work, const Roofline& roof);

}  // namespace tessel::gemm
