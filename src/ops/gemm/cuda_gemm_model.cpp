// The Hopper gemm kernels' tiling heuristics and cost model, on the host (see cuda_gemm_model.hpp).
#include "cuda_gemm_model.hpp"

#include <algorithm>
#include <cmath>

namespace tessel::gemm {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A 128-wide tile costs about 4% more per flop than a 256-wide one (measured on the H200; the reason
// wgmma_auto_tile_n weighs it). 64-wide tiles are not measured against 256 alone; they get the same 4%.
double tile_cost(int tile_n) { return tile_n >= 256 ? 1.0 : 1.04; }

// Whether 64 x 96 tiles (tile_n = 96) suit a shape whose narrow tiles already fill about one wave: A's
// rows fill whole 64-row tiles (the last at most 8 rows short: TMA zero-fills the rest slowly, lesson 19
// in docs/tile-layer.md), twice the 128-row tiles' row count, and the tiles fit one wave.
bool col_split_fits(const Shape& s, int sms) {
  const int64_t rows64 = ceil_div(s.m, kWgmmaColSplitTileM), short_rows = rows64 * kWgmmaColSplitTileM - s.m;
  return rows64 == 2 * ceil_div(s.m, kWgmmaTileM) && short_rows <= 8 && rows64 * ceil_div(s.n, 96) <= sms;
}

}  // namespace

// cuda.wgmma.skinny's weight rows per CTA. Every CTA reads all of A's rows for its stretch of K,
// through L2: at m = 16 a quarter of the weight's bytes again, and it costs: m = 16 ran 1.04-1.06x
// longer than m = 1 on the same 28672 x 4096 weight, whose time cuBLASLt hardly changes with m (H200,
// session12/call1). Two consumers sharing each stage of A halve that traffic (128-row tiles: 1.055x
// at m = 16, n = 28672; session12/call2) but halve the CTAs, which loses wherever the 64-row tiles
// made about one wave or less (n = 8192: 0.97x, n = 6144: 0.91x; m = 8, with half of A's rows,
// 0.99-1.00x). So 128 rows when m > 8 and the 128-row tiles fill every SM at least once.
int skinny_tile_rows(const Shape& s, int sms) {
  return s.m > 8 && s.m <= 16 && s.n >= int64_t{128} * sms ? 128 : 64;
}

// Splits of K for cuda.wgmma when its tiles leave SMs idle (few rows of A, e.g. m = 128 with a
// 4096-wide weight: 32 tiles of 128 x 128 on 132 SMs). The partials round trip through L2 and the
// last CTA of a tile adds them in split order (deterministic). With 128-wide tiles (which such shapes
// now get only when the config asks: wgmma_auto_tile_n picks 64-wide ones), measured on the H200
// (2026-11-28, m=128, b=nk): n=4096 k=4096: 26.3 / 24.8 / 26.3 / 52.2 us unsplit / 2 / 4 / 8 splits; n=6144 k=4096:
// 29.3 / 28.1 / 43.5; n=4096 k=14336: 72.7 / 51.7 / 49.6 / 94.7. Short splits lose to the pipeline
// fill and the serial reduction, so each split keeps at least 32 K stages (2048 of K), and splits
// only when the tiles leave more than half of the SMs idle. b=kn is left unsplit (not the LLM layout).
int wgmma_auto_splits(const Shape& s, int tile_n, int sms) {
  if (s.b != BLayout::nk || tile_n == 48 || tile_n == 96) return 1;  // narrow tiles are chosen where they fill one wave
  const int k_blocks = static_cast<int>(ceil_div(s.k, kWgmmaTileK));
  if (tile_n == 64) {
    // Measured with 128 x 64 tiles (session 7, call 7): unsplit was best at k = 4096 (n = 6144: 19.9 us
    // against 30.5 with 2 splits; n = 4096: 18.6 against 19.2), 2 splits at k = 14336 (38.9 against
    // 48.0 unsplit). So split only where each split keeps about 96 K blocks (6144 of K).
    const int tiles = static_cast<int>(ceil_div(s.m, kWgmmaTileM) * ceil_div(s.n, 64));
    return std::max(1, std::min(sms / tiles, k_blocks / 96));
  }
  const int tiles = static_cast<int>(ceil_div(s.m, kWgmmaTileM) * ceil_div(s.n, 128));
  if (tiles * 2 > sms) return 1;
  return std::max(1, std::min(sms / tiles, k_blocks / 32));
}

// Few rows of A against a b=nk weight (128 x 128 tiles would leave more than half of the SMs idle,
// e.g. m = 128, n <= 8192) take 128 x 64 tiles: twice the CTAs, and 7 stages of 24 KiB in flight
// instead of 6 of 32 KiB. Measured on the H200 (session 7, call 7; bench/results/h200/session7/),
// m = 128: 1.21-1.27x the 128 x 128 split-K kernel at k = 4096 and 1.13x at k = 14336 (2 splits);
// at n = 28672 (224 tiles of 128) 128-wide tiles stay 1.17x faster. Otherwise: the tile width with
// the least time in whole waves of CTAs: tiles of 128 x 256 run at the best rate, but when their
// count falls just past a multiple of the SM count (or below it), 128 x 128 tiles fill the last wave
// better. A 128-wide tile costs a little more per flop (about 4% measured).
//
// Where the 128 x 64 tiles fill less than one wave and their cluster pairs (wgmma_pair_k) would not
// fit one, 128 x 48 tiles put more SMs to work if they still fit one wave: at m = 128, n = 6144 (96
// tiles of 64, 128 of 48) a CTA pulls its operands at a nearly fixed rate, and A's 128 rows are most
// of its bytes, so 33% more CTAs on 92% of the bytes each. Measured side by side on the H200 (session
// 13, call 3; 8 stages of 22 KiB, TMA-store epilogue): 1.037x at m = 128, n = 6144, k = 4096, 1.088x at
// k = 14336, 1.066x at n = 5120, 1.04x at m = 256, n = 3072 and at m = 64, n = 6144; where pairs apply
// (n = 4096) 0.93x, so they keep 64.
//
// Where A's rows fill whole 64-row tiles, 64 x 96 tiles (tile_n = 96: two consumers of 48 columns
// sharing A's stage) run as many CTAs as 128 x 48 ones on fewer bytes each: 64 rows of A and 96 of B
// against 128 and 48, at m = 128, k = 4096 1.25 MiB a CTA against 1.375. Measured side by side
// (session 14, call 1): m = 128, n = 6144 1.022x at k = 4096 and 1.060x at k = 14336, n = 5120 1.038x,
// m = 120 1.027x, m = 256, n = 3072 1.012x; but m = 96 0.934x, whose second 64-row tile is half past m
// (TMA's slow zero fill, lesson 19), so they need the last 64-row tile at most 8 rows short.
int wgmma_auto_tile_n(const Shape& s, int sms) {
  const double tiles_m = double(ceil_div(s.m, kWgmmaTileM));
  if (s.b == BLayout::nk && tiles_m * double(ceil_div(s.n, 128)) * 2 <= sms) {
    const double tiles64 = tiles_m * double(ceil_div(s.n, 64)), tiles48 = tiles_m * double(ceil_div(s.n, 48));
    if (tiles64 * 2 <= sms || tiles48 > sms) return 64;
    return col_split_fits(s, sms) ? 96 : 48;
  }
  const double cost256 = std::ceil(tiles_m * double(ceil_div(s.n, 256)) / sms) * 256.0;
  const double cost128 = std::ceil(tiles_m * double(ceil_div(s.n, 128)) / sms) * 128.0 * tile_cost(128);
  return cost128 < cost256 ? 128 : 256;
}

// Block scales with staged km scale_a (scale_layout=km, m % 4 == 0) take 128 x 192 tiles (two scale_b
// columns a tile) where their whole waves cost no more than the 128-wide ones': side by side on the
// H200 (session 20, call 3, bench/results/h200/session20/) 192-wide tiles ran 1.012-1.014x where the
// waves are equal (6144^3, m = 4096 with n = 6144 or 28672), 1.023x at 8192^3 (21 waves of 192 against
// 32 of 128), 1.00x at m = 1024, n = 6144, and 0.73-0.93x wherever they add a wave (4096^3, n = 4096,
// m = 128, 2048^3). kBlock192Cost is that per-tile rate, relative to 128-wide tiles. (mk scales stay
// 128 wide: at 192 the consumers' scale registers spill.) Where 128-wide tiles would leave more than
// half of the SMs idle (m = 128 with n = 6144: 48 CTAs), 128 x 64 tiles run twice the CTAs, as for
// per-tensor scales (both layouts; a 64-wide tile lies in one 128-column scale block).
constexpr double kBlock192Cost = 0.987;

int wgmma_fp8_block_tile_n(const Shape& s, int sms) {
  const double tiles_m = double(ceil_div(s.m, kWgmmaTileM));
  if (tiles_m * double(ceil_div(s.n, 128)) * 2 <= sms) return 64;
  if (s.scale_layout != ScaleLayout::km || s.m % 4 != 0) return 128;
  const double cost128 = std::ceil(tiles_m * double(ceil_div(s.n, 128)) / sms) * 128.0;
  const double cost192 = std::ceil(tiles_m * double(ceil_div(s.n, 192)) / sms) * 192.0 * kBlock192Cost;
  return cost192 < cost128 ? 192 : 128;
}

// As wgmma_auto_tile_n: 128 x 256 tiles run at the best rate, 128 x 128 ones fill the last wave better
// when the 256-wide count falls just past a multiple of the SM count, and with per-tensor scaling few
// rows of A (128 x 128 tiles leaving more than half of the SMs idle: m = 128 with a 6144-wide weight
// runs 48 CTAs) take 128 x 64 tiles, twice the CTAs. Block scaling reads one scale_b per 128 columns:
// its tiles are 64, 128 or 192 wide (wgmma_fp8_block_tile_n).
//
// There, where A's rows fill whole 64-row tiles (as for wgmma_auto_tile_n's 64 x 96), 64 x 96 tiles
// run more CTAs on fewer bytes each: side by side (session 14, call 2) 1.06-1.10x at m = 128 (n = 4096,
// 5120, 6144; k = 4096 and 14336), 1.066x at m = 120, 1.086x at m = 256, n = 3072, 1.04x at k = 512.
int wgmma_fp8_auto_tile_n(const Shape& s, int sms) {
  if (s.scaling == Scaling::block) return wgmma_fp8_block_tile_n(s, sms);
  const double tiles_m = double(ceil_div(s.m, kWgmmaTileM));
  if (s.scaling == Scaling::tensor && tiles_m * double(ceil_div(s.n, 128)) * 2 <= sms)
    return col_split_fits(s, sms) ? 96 : 64;
  const double cost256 = std::ceil(tiles_m * double(ceil_div(s.n, 256)) / sms) * 256.0;
  const double cost128 = std::ceil(tiles_m * double(ceil_div(s.n, 128)) / sms) * 128.0 * tile_cost(128);
  return cost128 < cost256 ? 128 : 256;
}

// Per-tensor scaling accumulates the whole K in the tensor cores (fast) only where that is what
// promotion computes too: one 128-long K block. The tensor cores add each k32 step into the
// accumulator with about 14 mantissa bits, so once the accumulator is large, a later block's small
// products lose most of theirs. Measured on the H200: at 8192^3 fast accumulation failed the spec's
// elementwise check in a timed call (2026-11-28: rel_l2 2.7e-3, one element 23.5 against 22.65), and
// with the harness's heavy-tailed draws it failed at k = 256 too, two blocks (session 14, call 2: m =
// 128, n = 4104, one element 2.98 against 1.85), where the default had been fast up to k = 512.
bool wgmma_fp8_fast_by_default(const Shape& s) { return s.k <= kScaleBlock; }

// Measured on the H200 (session 9, calls 7-10): at m = 128, n = 4096, k = 4096, 128 CTAs on half of K
// each need 12.4 us where 64 on all of K need 17.9 (a CTA pulls its operands at a fixed rate), and
// the workspace round trip of global split K ate the difference (18.0 us); as cluster pairs 15.8 us
// (1.12x; at k = 14336 1.05x against the global split's 2). Required: 16 K stages, so that each half
// keeps a pipeline's worth.
bool wgmma_pair_k(const Shape& s, int tile_n, int splits, int cluster_k, int sms) {
  if (cluster_k == 1 || s.b != BLayout::nk) return false;
  const int resolved = tile_n == 0 ? wgmma_auto_tile_n(s, sms) : tile_n;
  const int64_t tiles = ceil_div(s.m, kWgmmaTileM) * ceil_div(s.n, 64);
  const int64_t k_blocks = ceil_div(s.k, kWgmmaTileK);
  if (resolved != 64 || tiles * 2 > sms || k_blocks < 2) return false;
  return cluster_k == 2 || (splits == 0 && k_blocks >= 16);
}

WgmmaPlan wgmma_plan(const Shape& s, int tile_n, int splits, int sms, int cluster_k) {
  WgmmaPlan plan;
  plan.tile_n = tile_n == 0 ? wgmma_auto_tile_n(s, sms) : tile_n;
  if ((plan.tile_n <= 64 || plan.tile_n == 96) && s.b == BLayout::kn) plan.tile_n = 128;  // 48, 64, 96: b=nk only
  if (wgmma_pair_k(s, tile_n, splits, cluster_k, sms)) {
    const int64_t k_blocks = ceil_div(s.k, kWgmmaTileK);
    plan.tile_n = 64;
    plan.splits = 2;
    plan.k_per_split = ceil_div(k_blocks, 2) * kWgmmaTileK;
    plan.pair = true;
    return plan;
  }
  int want = splits == 0 ? wgmma_auto_splits(s, plan.tile_n, sms) : splits;
  // Split K runs on b=nk only, with 64-wide tiles when asked and 128-wide ones otherwise.
  if (s.b == BLayout::kn) want = 1;
  if (want > 1 && plan.tile_n != 64) plan.tile_n = 128;
  const int k_blocks = static_cast<int>(std::max<int64_t>(1, ceil_div(s.k, kWgmmaTileK)));
  const int64_t blocks_per_split = ceil_div(k_blocks, std::clamp(want, 1, k_blocks));
  plan.splits = static_cast<int>(ceil_div(k_blocks, blocks_per_split));  // no empty split
  plan.k_per_split = blocks_per_split * kWgmmaTileK;
  return plan;
}

// Block-scaled 128 x 64 tiles (few rows of A) at long K: 64 tiles of m = 128, n = 4096 leave half of
// the SMs idle, each walking 112 K blocks at k = 14336. As for cuda.wgmma's 64-wide tiles
// (wgmma_auto_splits), split only where each split keeps about 6144 of K (48 fp8 blocks).
int wgmma_fp8_block_splits(const Shape& s, int tile_n, int sms) {
  if (s.scaling != Scaling::block || tile_n != 64) return 1;
  const int tiles = static_cast<int>(ceil_div(s.m, kWgmmaTileM) * ceil_div(s.n, 64));
  const int k_blocks = static_cast<int>(ceil_div(s.k, kWgmmaFp8TileK));
  return std::max(1, std::min(sms / tiles, k_blocks / 48));
}

WgmmaPlan wgmma_fp8_plan(const Shape& s, int accum, int tile_n, int sms, int splits) {
  const bool fast = s.scaling == Scaling::tensor && (accum == 2 || (accum == 0 && wgmma_fp8_fast_by_default(s)));
  WgmmaPlan plan;
  // Block scaling runs 64- or 128-wide tiles, or 192-wide ones with staged km scales; per-tensor promotion 64-,
  // 96- (64 x 96) or 128-wide; fast accumulation any but 192 (which runs 128). Only block-scaled 64-wide
  // tiles split K.
  const int want = tile_n == 0 ? wgmma_fp8_auto_tile_n(s, sms) : tile_n;
  const bool staged_km = s.scale_layout == ScaleLayout::km && s.m % 4 == 0;
  if (s.scaling == Scaling::block) plan.tile_n = want == 192 && staged_km ? 192 : want == 64 ? 64 : 128;
  else plan.tile_n = want == 192 ? 128 : want == 64 || want == 96 || fast ? want : 128;
  const int64_t k_blocks = std::max<int64_t>(1, ceil_div(s.k, kWgmmaFp8TileK));
  if (s.scaling == Scaling::block && plan.tile_n == 64) {
    const int wanted = splits == 0 ? wgmma_fp8_block_splits(s, 64, sms) : splits;
    const int64_t per_split = ceil_div(k_blocks, std::clamp<int64_t>(wanted, 1, k_blocks));
    plan.splits = static_cast<int>(ceil_div(k_blocks, per_split));  // no empty split, as the launch
    plan.k_per_split = per_split * kWgmmaFp8TileK;
  } else {
    plan.k_per_split = k_blocks * kWgmmaFp8TileK;
  }
  return plan;
}

double wgmma_predict_seconds(const Shape& s, const WgmmaPlan& plan, const Work& work, const Roofline& roof) {
  const double floor = roofline_seconds(work, roof);
  const double rate = roof.matrix_flops_per_s * work.matrix_rate;
  if (!(rate > 0)) return floor;
  const int sms = roof.units > 0 ? roof.units : kHopperSms;
  const int tile_m = wgmma_tile_m(plan.tile_n);
  const double tiles = double(ceil_div(s.m, tile_m) * ceil_div(s.n, plan.tile_n));
  // A persistent CTA per SM walks the tiles (times splits), so the time is whole waves of them: a
  // last wave a few tiles long costs a full tile time. Each tile computes its padded tile_m x tile_n
  // block over its share of K at one SM's share of the measured rate.
  const double waves = std::ceil(tiles * plan.splits / sms);
  const double tile_flops = 2.0 * tile_m * plan.tile_n * double(plan.k_per_split);
  // (Block-scaled 192-wide tiles at their measured rate relative to 128-wide ones: wgmma_fp8_block_tile_n.)
  const double per_tile =
      s.scaling == Scaling::block && plan.tile_n == 192 ? tile_cost(128) * kBlock192Cost : tile_cost(plan.tile_n);
  double t = waves * tile_flops * per_tile / (rate / sms);
  // Split K: every split writes its f32 partial tile and the tile's last CTA reads them all back, after
  // its mainloop and in series with it. Measured on the H200 (session 9, call 7): at m = 128, n = k =
  // 4096 two splits moved 4 MiB of partials and took 5.6 us longer than the same CTAs without them
  // (m = 256, k = 2048), about three times those bytes at copy bandwidth; charged at once, the model
  // had ranked two splits first there, and they measured 0.96x (the first tune run, call 5). (A
  // cluster pair adds its partials on chip: no round trip.)
  constexpr double kRoundTripCost = 3.0;
  if (plan.splits > 1 && !plan.pair && roof.bytes_per_s > 0)
    t += kRoundTripCost * 2.0 * tiles * plan.splits * tile_m * plan.tile_n * sizeof(float) / roof.bytes_per_s;
  return std::max(t, floor);
}

}  // namespace tessel::gemm
