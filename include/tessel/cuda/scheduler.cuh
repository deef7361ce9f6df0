// Persistent tile scheduler: one CTA per SM walks the output tiles in an L2-friendly grouped order.
#pragma once

#include "tessel/cuda/common.cuh"

namespace tessel::cuda {

// Tiles are numbered so that consecutive numbers walk down a group of `group_rows` tile rows before
// moving one tile column right. The CTAs resident at one moment then share a few row panels of A and
// column panels of B, which stay in L2, instead of sweeping all of A for every column of B.
struct TileScheduler {
  int tiles_m = 0;
  int tiles_n = 0;
  int group_rows = 8;

  TESSEL_HOST_DEVICE int total() const { return tiles_m * tiles_n; }

  // (tile row, tile column) of tile number t.
  TESSEL_HOST_DEVICE int2 coords(int t) const {
    const int per_group = group_rows * tiles_n;
    const int group = t / per_group;
    const int first_row = group * group_rows;
    const int rows_here = min(group_rows, tiles_m - first_row);
    const int in_group = t - group * per_group;
    return make_int2(first_row + in_group % rows_here, in_group / rows_here);
  }

  // The persistent walk: CTA b takes tiles b, b + grid, b + 2*grid, ...
  TESSEL_DEVICE int first() const { return static_cast<int>(blockIdx.x); }
  TESSEL_DEVICE int next(int t) const { return t + static_cast<int>(gridDim.x); }
  TESSEL_DEVICE bool valid(int t) const { return t < total(); }
};

}  // namespace tessel::cuda
