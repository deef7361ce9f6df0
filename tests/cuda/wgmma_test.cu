// Tests of wgmma m64nNk16 (bf16 -> f32) and m64nNk32 (fp8 e4m3 -> f32) on TMA-loaded swizzled tiles,
// K-major and MN-major B, vs host.
#include "cuda_test_util.cuh"
#include "tessel/cuda/tile.cuh"

namespace tc = tessel::cuda;
using tessel::cuda_test::DeviceArray;
using tessel::cuda_test::RandomBf16;

namespace {

// One warpgroup computes C[64,N] = A[64,K] . B for K <= 64, k16 step by k16 step, exactly the way the
// gemm kernel addresses its stages: A K-major; B K-major ([N,K]) or MN-major ([K,N], 64-column panels).
// C goes out with store_direct, or (Plain) with store_via_smem_plain's unswizzled staging and TMA store.
template <int N, bool TransB>
struct Shared {
  tc::st_bf<64, 64> a;
  std::conditional_t<TransB, tc::st_bf<64, N>, tc::st_bf<N, 64>> b;
  alignas(128) float staging[64 * N];
  tc::Barrier bar;
};

template <int N, bool TransB, int KSteps, bool Plain = false>
__global__ void __launch_bounds__(128, 1) wgmma_kernel(const __grid_constant__ CUtensorMap map_a,
                                                       const __grid_constant__ CUtensorMap map_b,
                                                       const __grid_constant__ CUtensorMap map_c, float* c) {
  extern __shared__ uint8_t raw[];
  auto& sh = *reinterpret_cast<Shared<N, TransB>*>((reinterpret_cast<uintptr_t>(raw) + 1023) & ~uintptr_t{1023});
  if (threadIdx.x == 0) {
    tc::init(sh.bar, 1);
    tc::fence_barrier_init();
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    tc::arrive_expect_tx(sh.bar, sizeof(sh.a) + sizeof(sh.b));
    tc::tma::load_async(&sh.a, map_a, 0, 0, sh.bar);
    if constexpr (TransB) {
      for (int p = 0; p < N / 64; ++p)
        tc::tma::load_async(reinterpret_cast<char*>(&sh.b) + p * decltype(sh.b)::panel_bytes, map_b, p * 64, 0, sh.bar);
    } else {
      tc::tma::load_async(&sh.b, map_b, 0, 0, sh.bar);
    }
  }
  tc::wait(sh.bar, 0);
  float acc[N / 2];
  tc::wgmma::fence();
#pragma unroll
  for (int kk = 0; kk < KSteps; ++kk) {
    const uint64_t da = tc::desc_k_major(sh.a, 0, kk * 16);
    const uint64_t db = TransB ? tc::desc_mn_major(sh.b, kk * 16, 0) : tc::desc_k_major(sh.b, 0, kk * 16);
    tc::wgmma::mma_bf16<N, TransB>(acc, da, db, kk > 0);
  }
  tc::wgmma::commit();
  tc::wgmma::wait<0>();
  tc::wgmma::fence_operands(acc);
  if constexpr (Plain) {
    tc::epilogue::store_via_smem_plain<float, N>(acc, sh.staging, map_c, 0, 0, 1);
    if (tc::warpgroup::is_leader()) tc::tma::store_wait<0>();
  } else {
    tc::epilogue::store_direct<float, N>(acc, c, N, 64, N, 0, 0, [](float&, float&, int, int) {});
  }
}

template <int N, bool TransB, int K, bool Plain = false>
void check_wgmma() {
  constexpr int k = K;
  constexpr int kSteps = (K + 15) / 16;
  RandomBf16 a(size_t(64) * k, 1), b(size_t(N) * k, 2);
  DeviceArray<__nv_bfloat16> da(a.bits.size()), db(b.bits.size());
  DeviceArray<float> dc(size_t(64) * N);
  TESSEL_CHECK_CUDA(da.upload(a.bits));
  TESSEL_CHECK_CUDA(db.upload(b.bits));
  CUtensorMap map_a, map_b;
  ASSERT_TRUE(tc::make_tma_map(&map_a, tc::gl<tc::bf16>{da.ptr, 64, k, k}, 64, 64).empty());
  // b holds B as [N,K] (K-major) or [K,N] (MN-major), row-major either way.
  const std::string err = TransB ? tc::make_tma_map(&map_b, tc::gl<tc::bf16>{db.ptr, k, N, N}, 64, 64)
                                 : tc::make_tma_map(&map_b, tc::gl<tc::bf16>{db.ptr, N, k, k}, N, 64);
  ASSERT_TRUE(err.empty()) << err;
  CUtensorMap map_c = map_a;  // used by Plain only
  if (Plain) ASSERT_TRUE(tc::make_tma_map(&map_c, tc::gl<float>{dc.ptr, 64, N, N}, 64, N, false).empty());
  const int smem = static_cast<int>(sizeof(Shared<N, TransB>)) + 1024;
  TESSEL_CHECK_CUDA(cudaFuncSetAttribute(wgmma_kernel<N, TransB, kSteps, Plain>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  wgmma_kernel<N, TransB, kSteps, Plain><<<1, 128, smem>>>(map_a, map_b, map_c, dc.ptr);
  TESSEL_CHECK_CUDA(cudaDeviceSynchronize());
  const std::vector<float> c = dc.download();
  double err2 = 0, ref2 = 0;
  int bad = 0;
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < N; ++j) {
      double ref = 0;
      for (int kk = 0; kk < k; ++kk)
        ref += double(a.values[size_t(i) * k + kk]) *
               double(TransB ? b.values[size_t(kk) * N + j] : b.values[size_t(j) * k + kk]);
      const double d = c[size_t(i) * N + j] - ref;
      err2 += d * d;
      ref2 += ref * ref;
      bad += std::abs(d) > 1e-4 + 1e-5 * std::abs(ref);
    }
  EXPECT_EQ(bad, 0) << "rel l2 " << std::sqrt(err2 / ref2);
}

TEST(Wgmma, M64N64K16KMajor) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma<64, false, 16>();
}
TEST(Wgmma, M64N64K16MnMajor) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma<64, true, 16>();
}
TEST(Wgmma, M64N256K64KMajor) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma<256, false, 64>();
}
TEST(Wgmma, M64N128K64MnMajorTwoPanels) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma<128, true, 64>();
}
TEST(Wgmma, M64N256K64MnMajorFourPanels) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma<256, true, 64>();
}
// 48 columns fill no 128-byte swizzled staging tile (192-byte f32 rows): the unswizzled TMA-store path.
TEST(Wgmma, M64N48K64KMajorPlainTmaStore) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma<48, false, 64, true>();
}
TEST(Wgmma, M64N16K40RaggedK) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma<16, false, 40>();  // TMA zero-fills K from 40 to 64
}

}  // namespace

// ---- fp8 e4m3: m64nNk32 ------------------------------------------------------------------------------
// One warpgroup computes C[64,N] = A[64,K] . B[N,K]^T for K <= 128 from TMA-loaded fp8 tiles (one
// 128-byte panel holds 128 values of K), k32 step by k32 step, as cuda.wgmma.fp8 addresses a stage.
// The inputs are exact e4m3 values in [-1, 1]; the tolerance allows for the tensor cores' reduced
// fp8 accumulation precision (about 14 bits), which is why the gemm promotes every 128 of K.
namespace {

template <int N>
struct SharedFp8 {
  tc::st_fp8<64, 128> a;
  tc::st_fp8<N, 128> b;
  tc::Barrier bar;
};

template <int N, int KSteps>
__global__ void __launch_bounds__(128, 1) wgmma_fp8_kernel(const __grid_constant__ CUtensorMap map_a,
                                                           const __grid_constant__ CUtensorMap map_b, float* c) {
  extern __shared__ uint8_t raw[];
  auto& sh = *reinterpret_cast<SharedFp8<N>*>((reinterpret_cast<uintptr_t>(raw) + 1023) & ~uintptr_t{1023});
  if (threadIdx.x == 0) {
    tc::init(sh.bar, 1);
    tc::fence_barrier_init();
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    tc::arrive_expect_tx(sh.bar, sizeof(sh.a) + sizeof(sh.b));
    tc::tma::load_async(&sh.a, map_a, 0, 0, sh.bar);
    tc::tma::load_async(&sh.b, map_b, 0, 0, sh.bar);
  }
  tc::wait(sh.bar, 0);
  float acc[N / 2];
  tc::wgmma::fence();
#pragma unroll
  for (int kk = 0; kk < KSteps; ++kk)
    tc::wgmma::mma_fp8_e4m3<N>(acc, tc::desc_k_major(sh.a, 0, kk * 32), tc::desc_k_major(sh.b, 0, kk * 32), kk > 0);
  tc::wgmma::commit();
  tc::wgmma::wait<0>();
  tc::wgmma::fence_operands(acc);
  tc::epilogue::store_direct<float, N>(acc, c, N, 64, N, 0, 0, [](float&, float&, int, int) {});
}

// Random e4m3 values in [-1, 1] as device bytes and as the floats they stand for.
struct RandomFp8 {
  std::vector<tc::fp8e4m3> bits;
  std::vector<float> values;
  RandomFp8(size_t count, uint32_t seed) : bits(count), values(count) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (size_t i = 0; i < count; ++i) {
      bits[i] = tc::fp8e4m3(dist(rng));
      values[i] = static_cast<float>(bits[i]);
    }
  }
};

template <int N, int K>
void check_wgmma_fp8() {
  constexpr int kSteps = (K + 31) / 32;
  RandomFp8 a(size_t(64) * K, 3), b(size_t(N) * K, 4);
  DeviceArray<tc::fp8e4m3> da(a.bits.size()), db(b.bits.size());
  DeviceArray<float> dc(size_t(64) * N);
  TESSEL_CHECK_CUDA(da.upload(a.bits));
  TESSEL_CHECK_CUDA(db.upload(b.bits));
  CUtensorMap map_a, map_b;
  ASSERT_TRUE(tc::make_tma_map(&map_a, tc::gl<tc::fp8e4m3>{da.ptr, 64, K, K}, 64, 128).empty());
  const std::string err = tc::make_tma_map(&map_b, tc::gl<tc::fp8e4m3>{db.ptr, N, K, K}, N, 128);
  ASSERT_TRUE(err.empty()) << err;
  const int smem = static_cast<int>(sizeof(SharedFp8<N>)) + 1024;
  TESSEL_CHECK_CUDA(cudaFuncSetAttribute(wgmma_fp8_kernel<N, kSteps>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  wgmma_fp8_kernel<N, kSteps><<<1, 128, smem>>>(map_a, map_b, dc.ptr);
  TESSEL_CHECK_CUDA(cudaDeviceSynchronize());
  const std::vector<float> c = dc.download();
  double err2 = 0, ref2 = 0;
  int bad = 0;
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < N; ++j) {
      double ref = 0, mag = 0;
      for (int kk = 0; kk < K; ++kk) {
        const double p = double(a.values[size_t(i) * K + kk]) * double(b.values[size_t(j) * K + kk]);
        ref += p;
        mag += std::abs(p);
      }
      const double d = c[size_t(i) * N + j] - ref;
      err2 += d * d;
      ref2 += ref * ref;
      bad += std::abs(d) > 1e-3 * mag + 1e-6;
    }
  EXPECT_EQ(bad, 0) << "rel l2 " << std::sqrt(err2 / ref2);
  EXPECT_LT(std::sqrt(err2 / ref2), 1e-3);
}

TEST(WgmmaFp8, M64N256K128) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma_fp8<256, 128>();
}
TEST(WgmmaFp8, M64N192K128) {  // cuda.wgmma.fp8's 128 x 192 block-scaled tiles
  TESSEL_REQUIRE_HOPPER();
  check_wgmma_fp8<192, 128>();
}
TEST(WgmmaFp8, M64N128K128) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma_fp8<128, 128>();
}
TEST(WgmmaFp8, M64N48K128) {  // cuda.wgmma.fp8's 64 x 96 tiles: each consumer's 48 columns
  TESSEL_REQUIRE_HOPPER();
  check_wgmma_fp8<48, 128>();
}
TEST(WgmmaFp8, M64N16K32) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma_fp8<16, 32>();
}
TEST(WgmmaFp8, M64N64K80RaggedK) {
  TESSEL_REQUIRE_HOPPER();
  check_wgmma_fp8<64, 80>();  // TMA zero-fills K from 80 to 128 (k % 16 == 0 keeps rows 16-byte aligned)
}

}  // namespace
