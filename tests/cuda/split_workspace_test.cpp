// bind_k_split (src/ops/gemm/cuda_split_workspace.hpp), the K split cuda.wgmma and cuda.wgmma.fp8
// launch with: at most the splits asked for, none empty, every K stage in exactly one split. Host
// arithmetic only (no workspace is bound with partials = false), so it runs in CI without a GPU.
#include <gtest/gtest.h>

#include <algorithm>

#include "gemm/cuda_split_workspace.hpp"

namespace tessel::gemm {
namespace {

struct Sched {
  int tiles = 64;
  int total() const { return tiles; }
};
struct Args {
  Sched sched;
  int splits = 1, kb_per_split = 0;
  float* workspace = nullptr;
  int* counters = nullptr;
};

Args split(int k_blocks, int wanted) {
  Args a;
  EXPECT_TRUE(bind_k_split("test", k_blocks, wanted, 128 * 64, false, a).ok());
  return a;
}

TEST(KSplit, CoversEveryStageWithNoEmptySplit) {
  for (int k_blocks : {1, 2, 3, 7, 8, 32, 112, 113})
    for (int wanted : {-1, 0, 1, 2, 3, 4, 5, 200}) {
      const Args a = split(k_blocks, wanted);
      EXPECT_GE(a.splits, 1);
      EXPECT_LE(a.splits, std::max(1, wanted)) << k_blocks << " / " << wanted;
      EXPECT_GE(a.splits * a.kb_per_split, k_blocks) << "some K stage in no split";
      EXPECT_LT((a.splits - 1) * a.kb_per_split, k_blocks) << "an empty last split";
      EXPECT_EQ(a.workspace, nullptr);  // partials = false binds nothing
    }
  EXPECT_EQ(split(112, 2).kb_per_split, 56);  // m = 128, k = 14336 in fp8's 128-long stages
  EXPECT_EQ(split(8, 5).splits, 4);           // 5 asked, 2 stages each: the fifth would be empty
  EXPECT_EQ(split(3, 200).splits, 3);         // never more splits than stages
  EXPECT_EQ(split(0, 2).splits, 1);           // k = 0: one split
}

}  // namespace
}  // namespace tessel::gemm
