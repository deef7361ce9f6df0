// Tests of the stage-ring pipeline's phase bits over many passes (TMA alone, TMA with cp.async copies
// completing on the same barrier, and a ring shared by a cluster of two CTAs through multicast), and
// of the tile scheduler's coverage.
#include <vector>

#include "cuda_test_util.cuh"
#include "tessel/cuda/tile.cuh"

namespace tc = tessel::cuda;
using tessel::cuda_test::DeviceArray;

namespace {

constexpr int kStages = 3;
constexpr int kRowFloats = 32;  // one 128-byte row per load
constexpr int kTableRows = 64;

struct Shared {
  alignas(128) float slot[kStages][kRowFloats];
  tc::Pipeline<kStages> pipe;
};

// One producer thread loads row (7 * it) % 64 of a table into the ring with TMA, `iterations` times;
// two consumer warps check every slot they receive and count mismatches. Any phase-bit mistake shows
// as a stale or skipped row, or as a hang (which the test's timeout catches).
__global__ void ring_kernel(const __grid_constant__ CUtensorMap map, int iterations, int* errors, int* consumed) {
  __shared__ Shared sh;
  if (threadIdx.x == 0) sh.pipe.init(2);
  __syncthreads();
  if (threadIdx.x < 32) {
    if (threadIdx.x == 0) {
      tc::RingPosition<kStages> pos;
      for (int it = 0; it < iterations; ++it) {
        tc::Barrier& full = sh.pipe.producer_acquire(pos, kRowFloats * sizeof(float));
        tc::tma::load_async(sh.slot[pos.stage], map, 0, (7 * it) % kTableRows, full);
        pos.advance();
      }
    }
  } else {
    tc::RingPosition<kStages> pos;
    for (int it = 0; it < iterations; ++it) {
      sh.pipe.consumer_wait(pos);
      const int lane = tc::lane_id();
      const float want = static_cast<float>(((7 * it) % kTableRows) * 1000 + lane);
      if (sh.slot[pos.stage][lane] != want) atomicAdd(errors, 1);
      __syncwarp();
      if (lane == 0) {
        sh.pipe.consumer_release(pos.stage);
        atomicAdd(consumed, 1);
      }
      pos.advance();
    }
  }
}

// The table both ring tests stream: element (r, c) = r * 1000 + c, on the device, with a TMA map
// whose box is one row.
struct DeviceTable {
  DeviceArray<float> data{size_t(kTableRows) * kRowFloats};
  CUtensorMap map{};
  std::string error;
  DeviceTable() {
    std::vector<float> table(size_t(kTableRows) * kRowFloats);
    for (int r = 0; r < kTableRows; ++r)
      for (int c = 0; c < kRowFloats; ++c) table[size_t(r) * kRowFloats + c] = static_cast<float>(r * 1000 + c);
    if (cudaError_t e = data.upload(table); e != cudaSuccess) {
      error = cudaGetErrorString(e);
      return;
    }
    error = tc::make_tma_map(&map, tc::gl<float>{data.ptr, kTableRows, kRowFloats, kRowFloats}, 1, kRowFloats, false);
  }
};

TEST(Pipeline, PhaseBitsHoldOverManyPasses) {
  TESSEL_REQUIRE_HOPPER();
  DeviceTable dt;
  ASSERT_TRUE(dt.error.empty()) << dt.error;
  DeviceArray<int> counters(2);
  TESSEL_CHECK_CUDA(cudaMemset(counters.ptr, 0, 2 * sizeof(int)));
  const CUtensorMap& map = dt.map;
  const int iterations = 10007;  // not a multiple of the stage count, so every stage ends mid-pass
  ring_kernel<<<1, 96>>>(map, iterations, counters.ptr, counters.ptr + 1);
  TESSEL_CHECK_CUDA(cudaDeviceSynchronize());
  const std::vector<int> c = counters.download();
  EXPECT_EQ(c[0], 0);
  EXPECT_EQ(c[1], 2 * iterations);
}

struct MixedShared {
  alignas(128) float slot[kStages][kRowFloats];
  float column[kStages][32];
  tc::Pipeline<kStages> pipe;
};

// As ring_kernel, but the whole producer warp also copies column (it % 64) of the table, one float per
// thread (a stride of a whole row: the scattered data TMA cannot box), with cp.async into the same
// stage. The full barrier then expects 1 + 32 arrivals; a consumer that saw the TMA row but a stale
// column would count an error.
__global__ void mixed_ring_kernel(const __grid_constant__ CUtensorMap map, const float* table, int iterations,
                                  int* errors) {
  __shared__ MixedShared sh;
  if (threadIdx.x == 0) sh.pipe.init(2, 1 + 32);
  __syncthreads();
  const int lane = tc::lane_id();
  if (threadIdx.x < 32) {
    tc::RingPosition<kStages> pos;
    for (int it = 0; it < iterations; ++it) {
      sh.pipe.producer_wait(pos);
      tc::Barrier& full = sh.pipe.full[pos.stage];
      if (lane == 0) {
        tc::arrive_expect_tx(full, kRowFloats * sizeof(float));
        tc::tma::load_async(sh.slot[pos.stage], map, 0, (7 * it) % kTableRows, full);
      }
      tc::async_copy::copy_4(&sh.column[pos.stage][lane], table + size_t(lane) * kRowFloats + (it % kRowFloats));
      tc::async_copy::arrive_when_done(full);
      pos.advance();
    }
  } else {
    tc::RingPosition<kStages> pos;
    for (int it = 0; it < iterations; ++it) {
      sh.pipe.consumer_wait(pos);
      const float row_want = static_cast<float>(((7 * it) % kTableRows) * 1000 + lane);
      const float col_want = static_cast<float>(lane * 1000 + it % kRowFloats);
      if (sh.slot[pos.stage][lane] != row_want || sh.column[pos.stage][lane] != col_want) atomicAdd(errors, 1);
      __syncwarp();
      if (lane == 0) sh.pipe.consumer_release(pos.stage);
      pos.advance();
    }
  }
}

TEST(Pipeline, CpAsyncCopiesCompleteWithTheStage) {
  TESSEL_REQUIRE_HOPPER();
  DeviceTable dt;
  ASSERT_TRUE(dt.error.empty()) << dt.error;
  DeviceArray<int> errors(1);
  TESSEL_CHECK_CUDA(cudaMemset(errors.ptr, 0, sizeof(int)));
  mixed_ring_kernel<<<1, 96>>>(dt.map, dt.data.ptr, 10007, errors.ptr);
  TESSEL_CHECK_CUDA(cudaDeviceSynchronize());
  EXPECT_EQ(errors.download()[0], 0);
}

struct PairShared {
  alignas(128) float slot[kStages][2][kRowFloats];  // row r of a stage comes from the pair's CTA r
  tc::Pipeline<kStages> pipe;
};

// A cluster of two CTAs shares its ring: each CTA's producer loads one of a stage's two rows and
// multicasts it to both, and a stage is free only once the consumers of both CTAs released it. A
// missing remote release shows as a stale row (an overwrite while the peer still reads) or a hang.
__global__ void pair_ring_kernel(const __grid_constant__ CUtensorMap map, int iterations, int* errors, int* consumed) {
  __shared__ PairShared sh;
  if (threadIdx.x == 0) sh.pipe.init(2 * 2);
  tc::cluster::sync();
  const int rank = static_cast<int>(tc::cluster::rank());
  if (threadIdx.x < 32) {
    if (threadIdx.x == 0) {
      tc::RingPosition<kStages> pos;
      for (int it = 0; it < iterations; ++it) {
        tc::Barrier& full = sh.pipe.producer_acquire(pos, 2 * kRowFloats * sizeof(float));
        tc::tma::load_multicast(sh.slot[pos.stage][rank], map, 0, (7 * it + rank) % kTableRows, full, 0b11);
        pos.advance();
      }
    }
  } else {
    tc::RingPosition<kStages> pos;
    const int lane = tc::lane_id();
    for (int it = 0; it < iterations; ++it) {
      sh.pipe.consumer_wait(pos);
      for (int r = 0; r < 2; ++r) {
        const float want = static_cast<float>(((7 * it + r) % kTableRows) * 1000 + lane);
        if (sh.slot[pos.stage][r][lane] != want) atomicAdd(errors, 1);
      }
      __syncwarp();
      if (lane == 0) {
        sh.pipe.consumer_release_cluster<2>(pos.stage);
        atomicAdd(consumed, 1);
      }
      pos.advance();
    }
  }
  tc::cluster::sync();  // the peer may still arrive on this CTA's barriers
}

TEST(Pipeline, ClusterPairSharesTheRingByMulticast) {
  TESSEL_REQUIRE_HOPPER();
  DeviceTable dt;
  ASSERT_TRUE(dt.error.empty()) << dt.error;
  DeviceArray<int> counters(2);
  TESSEL_CHECK_CUDA(cudaMemset(counters.ptr, 0, 2 * sizeof(int)));
  tc::cluster::ClusterLaunch launch(4, 96, 2);  // two clusters
  const int iterations = 10007;
  TESSEL_CHECK_CUDA(cudaLaunchKernelEx(&launch.config, pair_ring_kernel, dt.map, iterations, counters.ptr, counters.ptr + 1));
  TESSEL_CHECK_CUDA(cudaDeviceSynchronize());
  const std::vector<int> c = counters.download();
  EXPECT_EQ(c[0], 0);
  EXPECT_EQ(c[1], 4 * 2 * iterations);
}

// Distributed shared memory, as cuda.wgmma's cluster pairs hand off their partials: in each cluster of
// two, every thread of CTA 1 stores four floats into CTA 0's buffer (cluster::store_v4) and arrives on
// CTA 0's barrier with a cluster-scope release; CTA 0 waits with the acquire and copies the buffer out.
// Every thread arrives on the cluster barrier once done with its peer and waits at exit. A store that
// lands late shows as a stale value (the buffer starts as NaN).
__global__ void dsmem_handoff_kernel(float* out) {
  __shared__ alignas(16) float buf[128 * 4];
  __shared__ tc::Barrier full;
  const int t = static_cast<int>(threadIdx.x);
  for (int i = 0; i < 4; ++i) buf[t * 4 + i] = __int_as_float(0x7fc00000);
  if (t == 0) {
    tc::init(full, 128);
    tc::fence_barrier_init();
  }
  __syncthreads();
  tc::cluster::sync();
  const int pair = static_cast<int>(blockIdx.x) / 2;
  if (tc::cluster::rank() == 1) {
    const float base = static_cast<float>(pair * 100000 + t * 4);
    tc::cluster::store_v4(tc::cluster::peer_addr(&buf[t * 4], 0), base, base + 1, base + 2, base + 3);
    tc::cluster::arrive_release_on_peer(full, 0);
    tc::cluster::arrive();
  } else {
    tc::cluster::wait_acquire(full, 0);
    for (int i = 0; i < 4; ++i) out[(pair * 128 + t) * 4 + i] = buf[t * 4 + i];
    tc::cluster::arrive();
  }
  tc::cluster::wait();
}

TEST(Cluster, PeerStoresLandBeforeTheBarrierPhase) {
  TESSEL_REQUIRE_HOPPER();
  const int pairs = 66;  // every SM of an H200 in one wave
  DeviceArray<float> out(size_t(pairs) * 128 * 4);
  TESSEL_CHECK_CUDA(cudaMemset(out.ptr, 0, out.count * sizeof(float)));
  tc::cluster::ClusterLaunch launch(2 * pairs, 128, 2);
  TESSEL_CHECK_CUDA(cudaLaunchKernelEx(&launch.config, dsmem_handoff_kernel, out.ptr));
  TESSEL_CHECK_CUDA(cudaDeviceSynchronize());
  const std::vector<float> h = out.download();
  ASSERT_EQ(h.size(), out.count);
  for (int p = 0; p < pairs; ++p)
    for (int i = 0; i < 128 * 4; ++i)
      ASSERT_EQ(h[size_t(p) * 512 + i], static_cast<float>(p * 100000 + i)) << "pair " << p << " float " << i;
}

TEST(TileScheduler, GroupedOrderCoversEveryTileOnce) {
  for (int tm : {1, 3, 8, 17}) {
    for (int tn : {1, 5, 32}) {
      for (int group : {1, 4, 8, 16}) {
        const tc::TileScheduler s{tm, tn, group};
        std::vector<int> hits(size_t(tm) * tn, 0);
        for (int t = 0; t < s.total(); ++t) {
          const int2 c = s.coords(t);
          ASSERT_TRUE(c.x >= 0 && c.x < tm && c.y >= 0 && c.y < tn) << tm << "x" << tn << " g" << group << " t" << t;
          ++hits[size_t(c.x) * tn + c.y];
        }
        for (int h : hits) EXPECT_EQ(h, 1);
      }
    }
  }
}

TEST(TileScheduler, ConsecutiveTilesStayInOneGroupOfRows) {
  const tc::TileScheduler s{16, 16, 4};
  for (int t = 0; t < 4 * 16; ++t) EXPECT_LT(s.coords(t).x, 4);
}

}  // namespace
