// The tile layer in one include: shared tiles, global layouts, TMA, mbarriers, wgmma, warpgroups,
// the stage-ring pipeline, the persistent scheduler and the epilogue. See docs/tile-layer.md.
#pragma once

#include "tessel/cuda/async_copy.cuh"
#include "tessel/cuda/barrier.cuh"
#include "tessel/cuda/cluster.cuh"
#include "tessel/cuda/common.cuh"
#include "tessel/cuda/epilogue.cuh"
#include "tessel/cuda/global_layout.cuh"
#include "tessel/cuda/pipeline.cuh"
#include "tessel/cuda/scheduler.cuh"
#include "tessel/cuda/shared_tile.cuh"
#include "tessel/cuda/tma.cuh"
#include "tessel/cuda/warpgroup.cuh"
#include "tessel/cuda/wgmma.cuh"
