// The Hopper gemm cost model's arithmetic (src/ops/gemm/cuda_gemm_model.cpp), on the host: the plans
// cuda.wgmma and cuda.wgmma.fp8 resolve configs to, waves of tiles, split-K, the skinny kernel's tile
// rows, and the roofline floor.
#include <gtest/gtest.h>

#include <cmath>

#include "gemm/cuda_gemm_model.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

using namespace gemm;

// An H200-like device: 132 SMs, 800 TFLOP/s bf16, 4 TB/s copy.
Roofline hopper() {
  Roofline r;
  r.matrix_flops_per_s = r.flops_per_s = 800e12;
  r.bytes_per_s = 4e12;
  r.units = 132;
  return r;
}

Shape shape(int64_t m, int64_t n, int64_t k, BLayout b) {
  Shape s;
  s.m = m;
  s.n = n;
  s.k = k;
  s.in = DType::bf16;
  s.out = DType::bf16;
  s.b = b;
  return s;
}

Work matrix_work(const Shape& s, double rate = 1) {
  Work w;
  w.flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
  w.min_bytes = 2.0 * double(s.m * s.k + s.n * s.k + s.m * s.n);
  w.matrix_bound = true;
  w.matrix_rate = rate;
  return w;
}

double predict(const Shape& s, int tile_n, int splits) {
  return wgmma_predict_seconds(s, wgmma_plan(s, tile_n, splits, 132), matrix_work(s), hopper());
}

TEST(WgmmaModel, PlansResolveAutoAndTheKernelsOwnFallbacks) {
  // m = 128 against a 4096-wide weight: 128 x 128 tiles would leave most SMs idle, so auto picks 64.
  WgmmaPlan p = wgmma_plan(shape(128, 4096, 4096, BLayout::nk), 0, 0, 132);
  EXPECT_EQ(p.tile_n, 64);
  EXPECT_EQ(p.splits, 1);
  EXPECT_EQ(p.k_per_split, 4096);
  // b=kn has no 64-wide tiles and no split K.
  p = wgmma_plan(shape(128, 4096, 4096, BLayout::kn), 64, 4, 132);
  EXPECT_EQ(p.tile_n, 128);
  EXPECT_EQ(p.splits, 1);
  // Split K runs 128-wide tiles; K = 1000 is 16 stages, 4 splits of 4.
  p = wgmma_plan(shape(128, 4096, 1000, BLayout::nk), 256, 4, 132);
  EXPECT_EQ(p.tile_n, 128);
  EXPECT_EQ(p.splits, 4);
  EXPECT_EQ(p.k_per_split, 256);
  // No empty split: 3 stages of K cannot take 4 splits.
  p = wgmma_plan(shape(128, 4096, 192, BLayout::nk), 128, 4, 132);
  EXPECT_EQ(p.splits, 3);
  EXPECT_EQ(p.k_per_split, 64);
  // 48-wide tiles: b=nk only, never split (K splits asked for run 128-wide).
  p = wgmma_plan(shape(128, 6144, 4096, BLayout::kn), 48, 0, 132);
  EXPECT_EQ(p.tile_n, 128);
  p = wgmma_plan(shape(128, 6144, 14336, BLayout::nk), 48, 0, 132);
  EXPECT_EQ(p.tile_n, 48);
  EXPECT_EQ(p.splits, 1);
  p = wgmma_plan(shape(128, 6144, 14336, BLayout::nk), 48, 2, 132);
  EXPECT_EQ(p.tile_n, 128);
  EXPECT_EQ(p.splits, 2);
  // 64 x 96 tiles, the same: b=nk only, never split.
  p = wgmma_plan(shape(128, 6144, 4096, BLayout::kn), 96, 0, 132);
  EXPECT_EQ(p.tile_n, 128);
  p = wgmma_plan(shape(128, 4096, 4096, BLayout::nk), 96, 0, 132);
  EXPECT_EQ(p.tile_n, 96);
  EXPECT_EQ(p.splits, 1);
  p = wgmma_plan(shape(128, 6144, 14336, BLayout::nk), 96, 2, 132);
  EXPECT_EQ(p.tile_n, 128);
  EXPECT_EQ(p.splits, 2);
}

// 128 x 48 tiles where the 64-wide ones fill less than a wave, their pairs do not fit one, and the
// 48-wide ones still do; 64 x 96 tiles instead where A's rows fill whole 64-row tiles (measured on the
// H200: cuda_gemm_model.cpp).
TEST(WgmmaModel, NarrowTilesWhereTheyStillFitOneWave) {
  EXPECT_EQ(wgmma_auto_tile_n(shape(128, 6144, 4096, BLayout::nk), 132), 96);   // 96 of 128 x 64, 2 x 64 of 64 x 96
  EXPECT_EQ(wgmma_auto_tile_n(shape(120, 6144, 4096, BLayout::nk), 132), 96);   // the second 64-row tile 8 short
  EXPECT_EQ(wgmma_auto_tile_n(shape(96, 6144, 4096, BLayout::nk), 132), 48);    // ... 32 short: zero fill
  EXPECT_EQ(wgmma_auto_tile_n(shape(64, 5120, 4096, BLayout::nk), 132), 48);    // 80 of 64, 107 of 48, 54 of 96
  EXPECT_EQ(wgmma_auto_tile_n(shape(256, 3072, 4096, BLayout::nk), 132), 96);   // 2 x 48 of 64, 4 x 32 of 96
  EXPECT_EQ(wgmma_auto_tile_n(shape(200, 3072, 4096, BLayout::nk), 132), 48);   // 4 x 64 rows, the last 56 short
  EXPECT_EQ(wgmma_auto_tile_n(shape(128, 4096, 4096, BLayout::nk), 132), 64);   // 64 tiles: pairs fit
  EXPECT_EQ(wgmma_auto_tile_n(shape(128, 7680, 4096, BLayout::nk), 132), 64);   // 160 tiles of 48: two waves
  EXPECT_EQ(wgmma_auto_tile_n(shape(128, 6144, 4096, BLayout::kn), 132), 128);  // b=kn: no narrow tiles
  EXPECT_EQ(wgmma_auto_tile_n(shape(128, 6144, 4096, BLayout::nk), 100), 64);   // 128 tiles of 48 on 100 SMs
  EXPECT_EQ(wgmma_auto_splits(shape(128, 6144, 14336, BLayout::nk), 48, 132), 1);
  EXPECT_EQ(wgmma_auto_splits(shape(128, 6144, 14336, BLayout::nk), 96, 132), 1);
  EXPECT_FALSE(wgmma_pair_k(shape(128, 6144, 4096, BLayout::nk), 0, 0, 0, 132));
}

TEST(WgmmaModel, WholeWavesOfTilesAtOneSmsShare) {
  const Shape s = shape(4096, 4096, 4096, BLayout::kn);
  // 32 x 16 tiles of 128 x 256 on 132 SMs: 4 waves, each tile 2 * 128 * 256 * 4096 flops at 1/132
  // of the rate.
  const double expected = 4 * (2.0 * 128 * 256 * 4096) / (800e12 / 132);
  EXPECT_NEAR(predict(s, 256, 1), expected, expected * 1e-12);
  // 128-wide tiles: 1024 tiles, 8 waves, 4% more per flop.
  const double expected128 = 8 * (2.0 * 128 * 128 * 4096) / (800e12 / 132) * 1.04;
  EXPECT_NEAR(predict(s, 128, 1), expected128, expected128 * 1e-12);
}

TEST(WgmmaModel, NeverBelowTheRoofline) {
  const Shape s = shape(128, 128, 64, BLayout::kn);
  Work w = matrix_work(s);
  w.min_bytes = 1e9;  // a memory-bound work model: 250 us at 4 TB/s
  EXPECT_DOUBLE_EQ(wgmma_predict_seconds(s, wgmma_plan(s, 256, 1, 132), w, hopper()), 1e9 / 4e12);
  for (int tile : {256, 128})
    for (int64_t m : {1, 127, 129, 4096})
      EXPECT_GE(predict(shape(m, 4096, 4096, BLayout::kn), tile, 1) * (1 + 1e-12),
                roofline_seconds(matrix_work(shape(m, 4096, 4096, BLayout::kn)), hopper()));
}

// Few rows and a long K: the measured H200 order (72.7 / 51.7 / 49.6 us unsplit / 2 / 4 splits at
// m = 128, n = 4096, k = 14336 with 128-wide tiles), which the model must reproduce.
TEST(WgmmaModel, SplitKWinsWhenTilesLeaveSmsIdle) {
  const Shape s = shape(128, 4096, 14336, BLayout::nk);
  EXPECT_LT(predict(s, 128, 2), predict(s, 128, 1));
  EXPECT_LT(predict(s, 128, 4), predict(s, 128, 2));
  // The partials' round trip is charged: a split that adds no SMs costs more than none.
  const Shape full = shape(8192, 8192, 4096, BLayout::nk);
  EXPECT_GT(predict(full, 128, 2), predict(full, 128, 1));
  // As measured on the H200 (session 9): at m = 128, n = k = 4096 with 128 x 64 tiles two workspace
  // splits lose to none (18.0 against 17.9 us), while at k = 14336 they win (38.9 against 48.0).
  EXPECT_GT(predict(shape(128, 4096, 4096, BLayout::nk), 64, 2), predict(shape(128, 4096, 4096, BLayout::nk), 64, 1));
  EXPECT_LT(predict(s, 64, 2), predict(s, 64, 1));
}

// Where the heuristic reasons by waves (b=kn), the model agrees with it on the better width.
TEST(WgmmaModel, AgreesWithTheAutoTileWidth) {
  for (auto [m, n] : {std::pair<int64_t, int64_t>{4096, 4096}, {128 * 133, 256}, {8192, 8192}, {1024, 5120}}) {
    const Shape s = shape(m, n, 4096, BLayout::kn);
    const int best = predict(s, 128, 1) < predict(s, 256, 1) ? 128 : 256;
    EXPECT_EQ(wgmma_auto_tile_n(s, 132), best) << m << " x " << n;
    EXPECT_DOUBLE_EQ(predict(s, 0, 0), predict(s, best, 1)) << "auto predicts as the width it picks";
  }
  // 133 row tiles of one 256-wide tile: 2 waves of 256 columns lose to 3 waves of 128.
  EXPECT_EQ(wgmma_auto_tile_n(shape(128 * 133, 256, 4096, BLayout::kn), 132), 128);
}

// Cluster pairs: 128 x 64 tiles of a b=nk weight whose pairs fit one wave, chosen by default from
// K = 1024 unless K splits were asked for, forced by cluster_k=2 where they apply, never otherwise.
TEST(WgmmaModel, ClusterPairsWhereTwiceTheTilesFitOneWave) {
  const Shape m128 = shape(128, 4096, 4096, BLayout::nk);  // 64 tiles of 128 x 64
  EXPECT_TRUE(wgmma_pair_k(m128, 0, 0, 0, 132));
  EXPECT_FALSE(wgmma_pair_k(m128, 0, 0, 1, 132));         // off
  EXPECT_FALSE(wgmma_pair_k(m128, 0, 2, 0, 132));         // global splits asked for
  EXPECT_TRUE(wgmma_pair_k(m128, 0, 4, 2, 132));          // forced
  EXPECT_FALSE(wgmma_pair_k(m128, 0, 0, 0, 127));         // 128 CTAs do not fit one wave
  EXPECT_FALSE(wgmma_pair_k(m128, 128, 0, 2, 132));       // 128-wide tiles
  EXPECT_FALSE(wgmma_pair_k(shape(128, 6144, 4096, BLayout::nk), 0, 0, 2, 132));  // 96 tiles: 192 CTAs
  EXPECT_FALSE(wgmma_pair_k(shape(128, 4096, 4096, BLayout::kn), 0, 0, 2, 132));
  EXPECT_FALSE(wgmma_pair_k(shape(128, 4096, 64, BLayout::nk), 0, 0, 2, 132));    // one K stage
  EXPECT_FALSE(wgmma_pair_k(shape(128, 4096, 960, BLayout::nk), 0, 0, 0, 132));   // 15 stages: not by default
  EXPECT_TRUE(wgmma_pair_k(shape(128, 4096, 960, BLayout::nk), 0, 0, 2, 132));
  EXPECT_FALSE(wgmma_pair_k(shape(1024, 4096, 4096, BLayout::nk), 0, 0, 2, 132)); // wide tiles fill the SMs
  const WgmmaPlan p = wgmma_plan(m128, 0, 0, 132, 0);
  EXPECT_TRUE(p.pair);
  EXPECT_EQ(p.tile_n, 64);
  EXPECT_EQ(p.splits, 2);
  EXPECT_EQ(p.k_per_split, 2048);
  // On chip: no partial round trip, so the pair predicts half of the unsplit tile time.
  const Work w = matrix_work(m128);
  const double pair = wgmma_predict_seconds(m128, p, w, hopper());
  const double alone = wgmma_predict_seconds(m128, wgmma_plan(m128, 0, 0, 132, 1), w, hopper());
  EXPECT_NEAR(pair, std::max(alone / 2, roofline_seconds(w, hopper())), 1e-12);
}

// The skinny kernel's 128-row tiles: only for 9..16 rows of A, and only where they fill every SM.
TEST(SkinnyModel, WideTilesWhereTheyFillTheSms) {
  EXPECT_EQ(skinny_tile_rows(shape(16, 28672, 4096, BLayout::nk), 132), 128);
  EXPECT_EQ(skinny_tile_rows(shape(9, 128 * 132, 4096, BLayout::nk), 132), 128);
  EXPECT_EQ(skinny_tile_rows(shape(16, 128 * 132 - 1, 4096, BLayout::nk), 132), 64);  // one SM short
  EXPECT_EQ(skinny_tile_rows(shape(16, 8192, 8192, BLayout::nk), 132), 64);
  EXPECT_EQ(skinny_tile_rows(shape(8, 28672, 4096, BLayout::nk), 132), 64);   // half of A's rows
  EXPECT_EQ(skinny_tile_rows(shape(17, 28672, 4096, BLayout::nk), 132), 64);  // m > 16: not the skinny kernel's
  EXPECT_EQ(skinny_tile_rows(shape(16, 28672, 4096, BLayout::nk), 228), 64);  // more SMs than tiles
}

TEST(WgmmaModel, Fp8Plans) {
  Shape s = shape(4096, 4096, 128, BLayout::nk);
  s.in = DType::e4m3;
  s.scaling = Scaling::tensor;
  EXPECT_TRUE(wgmma_fp8_fast_by_default(s));  // one K block: fast is what promotion computes
  EXPECT_EQ(wgmma_fp8_plan(s, 0, 256, 132).tile_n, 256);  // fast accumulation takes the width asked
  EXPECT_EQ(wgmma_fp8_plan(s, 1, 256, 132).tile_n, 128);  // promotion runs 128-wide
  EXPECT_EQ(wgmma_fp8_plan(s, 0, 0, 132).tile_n, wgmma_fp8_auto_tile_n(s, 132));
  EXPECT_EQ(wgmma_fp8_plan(s, 0, 0, 132).k_per_split, 128);
  s.k = 256;  // two blocks: fast failed verify on heavy-tailed draws
  EXPECT_FALSE(wgmma_fp8_fast_by_default(s));
  EXPECT_EQ(wgmma_fp8_plan(s, 0, 256, 132).tile_n, 128);
  s.k = 8192;
  EXPECT_FALSE(wgmma_fp8_fast_by_default(s));
  EXPECT_EQ(wgmma_fp8_plan(s, 0, 256, 132).tile_n, 128);
  EXPECT_EQ(wgmma_fp8_plan(s, 2, 256, 132).tile_n, 256);
  s.scaling = Scaling::block;
  EXPECT_EQ(wgmma_fp8_plan(s, 2, 256, 132).tile_n, 128);  // block scaling always promotes
  // Block scales: 128 x 192 tiles with staged km scales where their waves cost no more (session 20).
  Shape blk = shape(8192, 8192, 8192, BLayout::nk);
  blk.in = DType::e4m3;
  blk.scaling = Scaling::block;
  EXPECT_EQ(wgmma_fp8_auto_tile_n(blk, 132), 128);  // mk scales: 192 wide would spill
  EXPECT_EQ(wgmma_fp8_plan(blk, 0, 192, 132).tile_n, 128);
  blk.scale_layout = ScaleLayout::km;
  EXPECT_EQ(wgmma_fp8_auto_tile_n(blk, 132), 192);  // 21 waves of 192 against 32 of 128
  EXPECT_EQ(wgmma_fp8_plan(blk, 0, 0, 132).tile_n, 192);
  EXPECT_EQ(wgmma_fp8_plan(blk, 0, 128, 132).tile_n, 128);
  // The tuner's model ranks them as the auto choice does.
  EXPECT_LT(wgmma_predict_seconds(blk, wgmma_fp8_plan(blk, 0, 192, 132), matrix_work(blk, 2), hopper()),
            wgmma_predict_seconds(blk, wgmma_fp8_plan(blk, 0, 128, 132), matrix_work(blk, 2), hopper()));
  blk.m = blk.n = blk.k = 6144;  // equal waves: the wider tile's rate decides
  EXPECT_EQ(wgmma_fp8_auto_tile_n(blk, 132), 192);
  blk.m = blk.n = blk.k = 4096;  // 6 waves of 192 against 8 of 128 (measured 0.93x)
  EXPECT_EQ(wgmma_fp8_auto_tile_n(blk, 132), 128);
  EXPECT_GT(wgmma_predict_seconds(blk, wgmma_fp8_plan(blk, 0, 192, 132), matrix_work(blk, 2), hopper()),
            wgmma_predict_seconds(blk, wgmma_fp8_plan(blk, 0, 128, 132), matrix_work(blk, 2), hopper()));
  blk.m = 4094;  // scale rows not 16-byte aligned: not staged, 128 wide
  blk.n = 28672;
  EXPECT_EQ(wgmma_fp8_auto_tile_n(blk, 132), 128);
  EXPECT_EQ(wgmma_fp8_plan(blk, 0, 192, 132).tile_n, 128);
  blk.m = 4096;
  EXPECT_EQ(wgmma_fp8_auto_tile_n(blk, 132), 192);
  s.scaling = Scaling::tensor;
  EXPECT_EQ(wgmma_fp8_plan(s, 1, 192, 132).tile_n, 128);  // per-tensor: 192 runs 128
  EXPECT_EQ(wgmma_fp8_plan(s, 2, 192, 132).tile_n, 128);
  s.scaling = Scaling::block;
  // Few rows of A: per-tensor scaling takes 64 x 96 or 128 x 64 tiles (promoting or not), block scaling
  // 128 x 64 (session 21).
  Shape few = shape(128, 6144, 4096, BLayout::nk);
  few.in = DType::e4m3;
  few.scaling = Scaling::tensor;
  EXPECT_EQ(wgmma_fp8_auto_tile_n(few, 132), 96);  // A fills two 64-row tiles: 64 x 96
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 0, 132).tile_n, 96);
  EXPECT_EQ(wgmma_fp8_plan(few, 2, 0, 132).tile_n, 96);
  EXPECT_EQ(wgmma_fp8_plan(few, 1, 64, 132).tile_n, 64);
  EXPECT_EQ(wgmma_fp8_plan(few, 1, 128, 132).tile_n, 128);
  few.m = 100;  // the second 64-row tile 28 rows short: 128 x 64
  EXPECT_EQ(wgmma_fp8_auto_tile_n(few, 132), 64);
  few.m = 64;  // one 64-row tile: 128 x 64 (A's box clamped to 64 rows) runs twice the CTAs
  EXPECT_EQ(wgmma_fp8_auto_tile_n(few, 132), 64);
  few.m = 128;
  few.n = 28672;  // 224 tiles of 128 fill the SMs
  EXPECT_NE(wgmma_fp8_auto_tile_n(few, 132), 64);
  EXPECT_NE(wgmma_fp8_auto_tile_n(few, 132), 96);
  few.scaling = Scaling::block;
  EXPECT_EQ(wgmma_fp8_auto_tile_n(few, 132), 128);  // 224 tiles of 128: not 64
  few.n = 6144;  // 48 tiles of 128 on 132 SMs: 96 of 64
  EXPECT_EQ(wgmma_fp8_auto_tile_n(few, 132), 64);
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 0, 132).tile_n, 64);
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 64, 132).tile_n, 64);
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 96, 132).tile_n, 128);  // 64 x 96: per-tensor only
  few.scale_layout = ScaleLayout::km;  // either layout
  EXPECT_EQ(wgmma_fp8_auto_tile_n(few, 132), 64);
  // ... and split K where those tiles still leave half of the SMs idle at long K (session 21).
  EXPECT_EQ(wgmma_fp8_block_splits(few, 64, 132), 1);  // 96 tiles
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 0, 132).splits, 1);
  few.n = 4096;  // 64 tiles
  EXPECT_EQ(wgmma_fp8_block_splits(few, 64, 132), 1);  // k = 4096: 32 K blocks, too short to split
  few.k = 14336;  // 112 K blocks
  EXPECT_EQ(wgmma_fp8_block_splits(few, 64, 132), 2);
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 0, 132).splits, 2);
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 0, 132).k_per_split, 56 * 128);
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 0, 132, 1).splits, 1);  // the config's splits=1
  EXPECT_EQ(wgmma_fp8_plan(few, 0, 128, 132).splits, 1);  // 128-wide tiles run unsplit
  EXPECT_EQ(wgmma_fp8_block_splits(few, 128, 132), 1);
  few.scaling = Scaling::tensor;
  EXPECT_EQ(wgmma_fp8_block_splits(few, 64, 132), 1);  // per-tensor tiles run unsplit
  EXPECT_EQ(wgmma_fp8_plan(few, 1, 64, 132, 2).splits, 1);
  few.scaling = Scaling::block;
  few.n = 6144;
  few.k = 4096;
  // fp8 runs at twice the bf16 rate: the same plan predicts half the time.
  const WgmmaPlan plan = wgmma_fp8_plan(s, 0, 0, 132);
  EXPECT_NEAR(wgmma_predict_seconds(s, plan, matrix_work(s, 2), hopper()) * 2,
              wgmma_predict_seconds(s, plan, matrix_work(s, 1), hopper()), 1e-15);
}

TEST(WgmmaModel, UnknownCeilingsFallBackToTheRoofline) {
  const Shape s = shape(4096, 4096, 4096, BLayout::kn);
  EXPECT_EQ(wgmma_predict_seconds(s, wgmma_plan(s, 256, 1, 132), matrix_work(s), Roofline{}), 0);
  Roofline no_sms = hopper();
  no_sms.units = 0;  // no probe of the SM count: the sm_90a parts' 132
  EXPECT_DOUBLE_EQ(wgmma_predict_seconds(s, wgmma_plan(s, 256, 1, 132), matrix_work(s), no_sms), predict(s, 256, 1));
}

// Implementations without a model of their own predict the roofline for every config.
TEST(CostModel, DefaultIsTheRooflineBound) {
  const Registry& reg = Registry::global();
  auto p = reg.parse("gemm m=64 n=64 k=64");
  ASSERT_TRUE(p.ok());
  const Implementation* impl = reg.impl("gemm", "cpu.simd");
  ASSERT_NE(impl, nullptr);
  const Work w = reg.spec("gemm")->work(*p);
  Roofline r;
  r.flops_per_s = r.matrix_flops_per_s = 1e11;
  r.bytes_per_s = 1e10;
  const double roof = std::max(w.flops / 1e11, w.min_bytes / 1e10);
  EXPECT_DOUBLE_EQ(impl->predict_seconds(*p, {}, w, r), roof);
  EXPECT_DOUBLE_EQ(impl->predict_seconds(*p, {{"mc", 84}}, w, r), roof);
}

}  // namespace
}  // namespace tessel
