// CUDA gemm implementations: the warp-specialized TMA + wgmma kernel (cuda.wgmma), a swapped-operand
// variant for few rows (cuda.wgmma.skinny) and a plain SIMT kernel for shapes TMA cannot address
// (cuda.simt).
#include <cuda.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <type_traits>

#include "cuda_epilogue.cuh"
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
// The producer gives registers to the consumers (setmaxnreg), whose accumulators take 128 of them.

inline constexpr int kBM = 128;
inline constexpr int kBK = 64;
inline constexpr int kConsumers = 2;
inline constexpr int kThreads = (kConsumers + 1) * tc::kWarpgroupThreads;

template <class OutT>
struct WgmmaArgs {
  int m = 0, n = 0, k = 0;
  tc::TileScheduler sched;
  FusedEpilogue<OutT> ep;
  // C's rows are not 16-byte aligned (n % 8 != 0 for bf16): no TMA store, guarded stores instead.
  bool direct_store = false;
  OutT* c = nullptr;
  int64_t ldc = 0;
};

template <class OutT, int BN, int Stages, bool BKN>
struct WgmmaGemm {
  using ATile = tc::st_bf<kBM, kBK>;
  // b=kn stores B as [K,N]: a K-by-BN tile made of 64-column panels, read MN-major by wgmma.
  using BTile = std::conditional_t<BKN, tc::st_bf<kBK, BN>, tc::st_bf<BN, kBK>>;
  using Staging = tc::epilogue::staging_tile<OutT>;
  struct Shared {
    ATile a[Stages];
    BTile b[Stages];
    Staging staging[kConsumers][2];
    tc::Pipeline<Stages> pipe;
  };
  static constexpr uint32_t kStageBytes = ATile::bytes + BTile::bytes;
  // Dynamic shared memory is only 16-byte aligned; the slack lets the kernel round up to 1024.
  static constexpr size_t kSmemBytes = sizeof(Shared) + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "the stage ring and staging tiles exceed shared memory");
};

template <class OutT, int BN, int Stages, bool BKN>
__global__ void __launch_bounds__(kThreads, 1)
    wgmma_gemm_kernel(const __grid_constant__ CUtensorMap map_a, const __grid_constant__ CUtensorMap map_b,
                      const __grid_constant__ CUtensorMap map_c, const WgmmaArgs<OutT> args) {
  using G = WgmmaGemm<OutT, BN, Stages, BKN>;
  extern __shared__ uint8_t smem_raw[];
  auto& sh = *reinterpret_cast<typename G::Shared*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) &
                                                    ~uintptr_t{1023});
  if (threadIdx.x == 0) {
    // Every warp of both consumers arrives once per stage it has finished reading.
    sh.pipe.init(kConsumers * tc::kWarpgroupWarps);
    tc::tma::prefetch_map(map_a);
    tc::tma::prefetch_map(map_b);
    if (!args.direct_store) tc::tma::prefetch_map(map_c);
  }
  __syncthreads();

  const tc::TileScheduler& sched = args.sched;
  const int k_blocks = static_cast<int>(tc::ceil_div(args.k, kBK));
  const int wg = tc::warpgroup_id();

  if (wg == 0) {
    // ---- Producer -------------------------------------------------------------------------------------
    tc::warpgroup::decrease_registers<40>();
    if (threadIdx.x == 0) {
      tc::RingPosition<Stages> pos;
      for (int t = sched.first(); sched.valid(t); t = sched.next(t)) {
        const int2 tile = sched.coords(t);
        const int m0 = tile.x * kBM, n0 = tile.y * BN;
        for (int kb = 0; kb < k_blocks; ++kb) {
          tc::Barrier& full = sh.pipe.producer_acquire(pos, G::kStageBytes);
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
  } else {
    // ---- Consumers ------------------------------------------------------------------------------------
    tc::warpgroup::increase_registers<232>();
    const int c = wg - 1;
    float acc[BN / 2];
    tc::RingPosition<Stages> pos;
    for (int t = sched.first(); sched.valid(t); t = sched.next(t)) {
      const int2 tile = sched.coords(t);
      const int m0 = tile.x * kBM, n0 = tile.y * BN;
      int previous = 0;
      for (int kb = 0; kb < k_blocks; ++kb) {
        sh.pipe.consumer_wait(pos);
        tc::wgmma::fence();
#pragma unroll
        for (int kk = 0; kk < kBK / 16; ++kk) {
          const uint64_t da = tc::desc_k_major(sh.a[pos.stage], c * 64, kk * 16);
          uint64_t db;
          if constexpr (BKN) {
            db = tc::desc_mn_major(sh.b[pos.stage], kk * 16, 0);
          } else {
            db = tc::desc_k_major(sh.b[pos.stage], 0, kk * 16);
          }
          tc::wgmma::mma_bf16<BN, BKN>(acc, da, db, kb > 0 || kk > 0);
        }
        tc::wgmma::commit();
        // The batch before this one is done once at most one batch is in flight: its stage is free.
        if (kb > 0) {
          tc::wgmma::wait<1>();
          if (tc::lane_id() == 0) sh.pipe.consumer_release(previous);
        }
        previous = pos.stage;
        pos.advance();
      }
      tc::wgmma::wait<0>();
      tc::wgmma::fence_operands(acc);
      if (tc::lane_id() == 0) sh.pipe.consumer_release(previous);
      if (args.direct_store) {
        tc::epilogue::store_direct<OutT, BN>(acc, args.c, args.ldc, args.m, args.n, m0 + c * 64, n0, args.ep);
      } else {
        tc::epilogue::store_via_smem<OutT, BN>(acc, sh.staging[c], map_c, m0 + c * 64, n0, 1 + c, args.ep);
      }
    }
    // Shared memory must outlive the TMA stores that read it.
    if (tc::warpgroup::is_leader()) tc::tma::store_wait<0>();
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
// contiguous (stride 1 in the last dimension).
struct Operands {
  const TensorView* a = nullptr;
  const TensorView* b = nullptr;
  const TensorView* bias = nullptr;
  const TensorView* residual = nullptr;
  const TensorView* scale_a = nullptr;
  const TensorView* scale_b = nullptr;
  const TensorView* c = nullptr;
};

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

template <class OutT, int BN, int Stages, bool BKN>
Status launch_wgmma(const Shape& s, const Operands& o, int group_rows, cudaStream_t stream) {
  using G = ck::WgmmaGemm<OutT, BN, Stages, BKN>;
  const std::string impl = "cuda.wgmma";
  static std::once_flag once;
  static cudaError_t attr_error = cudaSuccess;
  std::call_once(once, [] {
    attr_error = cudaFuncSetAttribute(ck::wgmma_gemm_kernel<OutT, BN, Stages, BKN>,
                                      cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(G::kSmemBytes));
  });
  if (attr_error != cudaSuccess) return cuda_failure(impl, "cudaFuncSetAttribute", attr_error);

  CUtensorMap map_a, map_b, map_c;
  const tc::gl<bf16> ga{static_cast<bf16*>(o.a->data), s.m, s.k, o.a->stride(0)};
  const tc::gl<bf16> gb{static_cast<bf16*>(o.b->data), BKN ? s.k : s.n, BKN ? s.n : s.k, o.b->stride(0)};
  const tc::gl<OutT> gc{static_cast<OutT*>(o.c->data), s.m, s.n, o.c->stride(0)};
  std::string err = tc::make_tma_map(&map_a, ga, ck::kBM, ck::kBK);
  if (err.empty()) err = BKN ? tc::make_tma_map(&map_b, gb, ck::kBK, 64) : tc::make_tma_map(&map_b, gb, BN, ck::kBK);
  // C gets a tensor map when its rows allow one; otherwise the epilogue stores with bounds checks.
  const bool direct_store = !gc.tma_compatible();
  if (err.empty() && !direct_store) err = tc::make_tma_map(&map_c, gc, 64, G::Staging::cols);
  if (direct_store) map_c = map_a;  // a valid map the kernel never uses
  if (!err.empty()) return Status::invalid("gemm", impl, err);

  ck::WgmmaArgs<OutT> args;
  args.m = static_cast<int>(s.m);
  args.n = static_cast<int>(s.n);
  args.k = static_cast<int>(s.k);
  args.sched.tiles_m = static_cast<int>(tc::ceil_div(s.m, ck::kBM));
  args.sched.tiles_n = static_cast<int>(tc::ceil_div(s.n, BN));
  args.sched.group_rows = std::max(1, group_rows);
  args.ep = make_epilogue<OutT>(s, o);
  args.direct_store = direct_store;
  args.c = static_cast<OutT*>(o.c->data);
  args.ldc = o.c->stride(0);
  const int grid = std::min(args.sched.total(), sm_count());
  ck::wgmma_gemm_kernel<OutT, BN, Stages, BKN>
      <<<grid, ck::kThreads, G::kSmemBytes, stream>>>(map_a, map_b, map_c, args);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return cuda_failure(impl, "kernel launch", e);
  return {};
}

template <class OutT, bool BKN>
Status dispatch_wgmma_tile(const Shape& s, const Operands& o, int tile_n, int group, cudaStream_t stream) {
  if (tile_n == 128) return launch_wgmma<OutT, 128, 6, BKN>(s, o, group, stream);
  return launch_wgmma<OutT, 256, 4, BKN>(s, o, group, stream);
}

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
    return {{"tile_n", {256, 128}}, {"raster_group", {8, 4, 16}}};
  }

  Status run(const Problem& p, const Config& config, std::span<const TensorView> tensors,
             const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("gemm", name(), sup.reason);
    Result<Operands> o = bind(s, tensors, name());
    if (!o.ok()) return o.status();
    const auto space = config_space(p);
    const int tile_n = static_cast<int>(config_value(config, space, "tile_n"));
    const int group = static_cast<int>(config_value(config, space, "raster_group"));
    auto stream = static_cast<cudaStream_t>(ctx.stream);
    if (s.out == DType::bf16) {
      return s.b == BLayout::kn ? dispatch_wgmma_tile<bf16, true>(s, *o, tile_n, group, stream)
                                : dispatch_wgmma_tile<bf16, false>(s, *o, tile_n, group, stream);
    }
    return s.b == BLayout::kn ? dispatch_wgmma_tile<float, true>(s, *o, tile_n, group, stream)
                              : dispatch_wgmma_tile<float, false>(s, *o, tile_n, group, stream);
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

void register_cuda(Registry& r);
void register_cuda(Registry& r) {
  r.add_impl(std::make_unique<WgmmaImpl>());
  r.add_impl(std::make_unique<SimtImpl>());
}

}  // namespace tessel::gemm
