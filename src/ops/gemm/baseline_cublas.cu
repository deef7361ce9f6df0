// cuBLASLt baselines for gemm: bf16 (both B layouts, bias and gelu through cuBLASLt epilogues) and fp8
// e4m3 with per-tensor scales or DeepSeek-V3 block scales (cuBLASLt 12.9+ on Hopper: VEC128_32F for the
// activations, BLK128x128_32F for the weights), so that cuda.wgmma.fp8's block rows have a baseline of
// their own format.
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "gemm.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::gemm {
namespace {

// ---- Process-wide cuBLASLt state ------------------------------------------------------------------------

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

// Row-major C[M,N] = A[M,K] . B is column-major C^T[N,M] = B^T . A^T, so cuBLASLt's "A" is our B
// and its "B" is our A. A plan caches the descriptors and the chosen algorithm for one problem
// shape, so that timing a baseline times the GPU work and not the heuristic query.
struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  ~Plan() {
    if (op) cublasLtMatmulDescDestroy(op);
    for (auto* l : {a, b, c, d})
      if (l) cublasLtMatrixLayoutDestroy(l);
  }
};

struct LtState {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  std::string error;  // why the state could not be created
  std::mutex mutex;   // guards plans
  std::map<std::string, std::unique_ptr<Plan>> plans;
};

LtState& lt_state() {
  static LtState* state = [] {
    auto* s = new LtState;  // never freed: it must outlive every static that might still run a gemm
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
      s->error = "no CUDA device";
    } else if (cublasLtCreate(&s->handle) != CUBLAS_STATUS_SUCCESS) {
      s->error = "cublasLtCreate failed";
    } else if (cudaError_t e = cudaMalloc(&s->workspace, kWorkspaceBytes); e != cudaSuccess) {
      s->error = std::string("cudaMalloc of the workspace: ") + cudaGetErrorString(e);
    }
    return s;
  }();
  return *state;
}

Status lt_failure(const char* call, cublasStatus_t st) {
  return Status::error(StatusCode::backend_error, "gemm", std::string("cublaslt: ") + call,
                       std::string("cuBLAS status ") + std::to_string(int(st)));
}

#define TESSEL_LT(call)                                            \
  do {                                                             \
    if (cublasStatus_t st_ = (call); st_ != CUBLAS_STATUS_SUCCESS) \
      return lt_failure(#call, st_);                               \
  } while (0)

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::bf16: return CUDA_R_16BF;
    case DType::e4m3: return CUDA_R_8F_E4M3;
    case DType::f16: return CUDA_R_16F;
    default: return CUDA_R_32F;
  }
}

class CublasLtImpl final : public Implementation {
 public:
  std::string name() const override { return "cublaslt"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cuda; }
  bool is_baseline() const override { return true; }
  int priority() const override { return 50; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in != DType::bf16 && s.in != DType::e4m3) return Support::no("cublaslt: dtype=bf16 or e4m3 only");
    if (s.act == Activation::silu) return Support::no("cublaslt: cuBLASLt has no silu epilogue");
    if (s.residual && s.act != Activation::none)
      return Support::no("cublaslt: the residual goes in as C, which cuBLASLt adds before the activation");
    if (s.in == DType::e4m3) {
      if (s.scaling == Scaling::block) {
        if (Support sup = block_supports(s); !sup.ok) return sup;
      } else if (s.scaling != Scaling::tensor) {
        return Support::no("cublaslt: fp8 with scale=tensor or scale=block only");
      }
      if (s.b != BLayout::nk) return Support::no("cublaslt: fp8 on Hopper needs both operands K-major (b=nk)");
      if (s.k % 16 != 0 || s.n % 16 != 0)
        return Support::no("cublaslt: fp8 needs k and n to be multiples of 16 (16-byte aligned leading dimensions)");
      if ((s.bias || s.residual) && s.out != DType::bf16)
        return Support::no("cublaslt: fp8 with bias or residual is supported here for out=bf16 only");
    }
    if (s.m > INT32_MAX || s.n > INT32_MAX || s.k > INT32_MAX) return Support::no("cublaslt: sizes must fit 32 bits");
    return Support::yes();
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    if (Support sup = supports(p); !sup.ok) return Status::unsupported("gemm", name(), sup.reason);
    LtState& lt = lt_state();
    if (!lt.error.empty()) return Status::error(StatusCode::backend_error, "gemm", name(), lt.error);
    const TensorIndex ix = TensorIndex::of(s);
    const TensorView& a = t[size_t(ix.a)];
    const TensorView& b = t[size_t(ix.b)];
    const TensorView& c = t[size_t(ix.c)];
    const TensorView* bias = ix.bias >= 0 ? &t[size_t(ix.bias)] : nullptr;
    const TensorView* residual = ix.residual >= 0 ? &t[size_t(ix.residual)] : nullptr;
    for (const TensorView* v : {&a, &b, &c, residual})
      if (v && v->stride(1) != 1) return Status::invalid("gemm", name(), "rows must be contiguous");
    if (s.scaling == Scaling::block) {
      // cuBLASLt reads both scale tensors densely, in the layouts block_supports() names.
      const TensorView& sa = t[size_t(ix.scale_a)];
      const TensorView& sb = t[size_t(ix.scale_b)];
      if ((sa.rank() == 2 && sa.stride(0) != s.m) || (sb.rank() == 2 && sb.stride(0) != s.k_blocks()))
        return Status::invalid("gemm", name(),
                               "block scales must be dense: scale_a [k_blocks, m], scale_b [n_blocks, k_blocks]");
    }

    const std::string key = p.op() + [&] {
      std::string k;
      for (const auto& [key, value] : p.values()) k += " " + key + "=" + value;
      return k + " lda=" + std::to_string(a.stride(0)) + " ldb=" + std::to_string(b.stride(0)) +
             " ldc=" + std::to_string(c.stride(0)) + " ldr=" + std::to_string(residual ? residual->stride(0) : 0);
    }();

    std::lock_guard<std::mutex> lock(lt.mutex);
    auto it = lt.plans.find(key);
    if (it == lt.plans.end()) {
      auto plan = std::make_unique<Plan>();
      const TensorView* scale_a = ix.scale_a >= 0 ? &t[size_t(ix.scale_a)] : nullptr;
      const TensorView* scale_b = ix.scale_b >= 0 ? &t[size_t(ix.scale_b)] : nullptr;
      TESSEL_RETURN_IF_ERROR(make_plan(s, a, b, c, residual, scale_a, scale_b, lt, *plan));
      it = lt.plans.emplace(key, std::move(plan)).first;
    }
    Plan& plan = *it->second;
    if (bias) {
      const void* ptr = bias->data;
      TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &ptr, sizeof(ptr)));
    }
    if (s.scaling == Scaling::tensor || s.scaling == Scaling::block) {
      // cuBLASLt's A is our B: its scale is scale_b (for block scales, the modes are in the plan).
      const void* sa = t[size_t(ix.scale_b)].data;
      const void* sb = t[size_t(ix.scale_a)].data;
      TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &sa, sizeof(sa)));
      TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &sb, sizeof(sb)));
    }
    const float alpha = 1.0f, beta = residual ? 1.0f : 0.0f;
    const void* c_in = residual ? residual->data : c.data;
    TESSEL_LT(cublasLtMatmul(lt.handle, plan.op, &alpha, b.data, plan.a, a.data, plan.b, &beta, c_in, plan.c, c.data,
                             plan.d, &plan.algo, lt.workspace, kWorkspaceBytes, static_cast<cudaStream_t>(ctx.stream)));
    return {};
  }

 private:
  // cuBLASLt's block-scale layouts, in our terms (its A is our B, its B our A): the activations' 1 x 128
  // scales K-block-major, [k_blocks, m] (our scale_layout=km), and the weights' 128 x 128 scales
  // [n_blocks, k_blocks] with each row of K blocks padded to a multiple of 4 (16 bytes), which our dense
  // tensor is only where k_blocks % 4 == 0. cuBLASLt has no fast accumulation with block scales.
  static Support block_supports(const Shape& s) {
    if (s.scale_layout != ScaleLayout::km)
      return Support::no("cublaslt: block scales need scale_layout=km (cuBLASLt reads the 1x128 scales K-block-major)");
    if (s.k % (4 * kScaleBlock) != 0)
      return Support::no("cublaslt: block scales need k to be a multiple of 512 (cuBLASLt pads each row of the "
                         "128x128 scales to a multiple of 4 K blocks)");
    if (s.m % 4 != 0) return Support::no("cublaslt: block scales need m to be a multiple of 4 (16-byte scale rows)");
    if (s.bias || s.residual || s.act != Activation::none || s.out != DType::bf16)
      return Support::no("cublaslt: block scales are run here without fused epilogues, out=bf16");
    return Support::yes();
  }

  static Status make_plan(const Shape& s, const TensorView& a, const TensorView& b, const TensorView& c,
                          const TensorView* residual, const TensorView* scale_a, const TensorView* scale_b,
                          LtState& lt, Plan& plan) {
    TESSEL_LT(cublasLtMatmulDescCreate(&plan.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t ta = s.b == BLayout::nk ? CUBLAS_OP_T : CUBLAS_OP_N, tb = CUBLAS_OP_N;
    TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
    TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
    if (s.bias) epi = s.act == Activation::gelu ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
    else if (s.act == Activation::gelu) epi = CUBLASLT_EPILOGUE_GELU;
    TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
    if (s.scaling == Scaling::block) {
      const cublasLtMatmulMatrixScale_t weights = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F,
                                        activations = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
      TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &weights, sizeof(weights)));
      TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &activations,
                                               sizeof(activations)));
      // The heuristic refuses block modes without their scale pointers (run() sets them again per call).
      const void* weights_scale = scale_b->data;
      const void* activations_scale = scale_a->data;
      TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &weights_scale,
                                               sizeof(weights_scale)));
      TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &activations_scale,
                                               sizeof(activations_scale)));
    }
    if (s.bias) {
      const cudaDataType_t bt = cuda_type(s.out);
      TESSEL_LT(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof(bt)));
    }
    const cudaDataType_t in = cuda_type(s.in), out = cuda_type(s.out);
    // Column-major views: cuBLASLt's A is B^T (N x K), its B is A^T (K x M), its C and D are C^T (N x M).
    if (ta == CUBLAS_OP_N)
      TESSEL_LT(cublasLtMatrixLayoutCreate(&plan.a, in, uint64_t(s.n), uint64_t(s.k), b.stride(0)));
    else
      TESSEL_LT(cublasLtMatrixLayoutCreate(&plan.a, in, uint64_t(s.k), uint64_t(s.n), b.stride(0)));
    TESSEL_LT(cublasLtMatrixLayoutCreate(&plan.b, in, uint64_t(s.k), uint64_t(s.m), a.stride(0)));
    TESSEL_LT(cublasLtMatrixLayoutCreate(&plan.c, out, uint64_t(s.n), uint64_t(s.m),
                                         residual ? residual->stride(0) : c.stride(0)));
    TESSEL_LT(cublasLtMatrixLayoutCreate(&plan.d, out, uint64_t(s.n), uint64_t(s.m), c.stride(0)));

    cublasLtMatmulPreference_t pref = nullptr;
    TESSEL_LT(cublasLtMatmulPreferenceCreate(&pref));
    size_t ws = kWorkspaceBytes;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t st =
        cublasLtMatmulAlgoGetHeuristic(lt.handle, plan.op, plan.a, plan.b, plan.c, plan.d, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0)
      return Status::unsupported("gemm", "cublaslt", "cuBLASLt found no algorithm for this problem (status " +
                                                         std::to_string(int(st)) + ")");
    plan.algo = result.algo;
    return {};
  }
};

}  // namespace

void register_cublas(Registry& r);
void register_cublas(Registry& r) { r.add_impl(std::make_unique<CublasLtImpl>()); }

}  // namespace tessel::gemm
