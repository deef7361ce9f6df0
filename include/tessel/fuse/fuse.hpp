// The fusion API in one include: element types, math, ops, chains and the CPU runner.
#pragma once

#include "tessel/fuse/chain.hpp"
#include "tessel/fuse/config.hpp"
#include "tessel/fuse/dtypes.hpp"
#include "tessel/fuse/math.hpp"
#include "tessel/fuse/ops.hpp"
#include "tessel/fuse/simd.hpp"
#if !defined(__CUDACC__)
#include "tessel/fuse/cpu.hpp"
#endif
