// Session 20, device call 1b: which cuBLASLt block-scale assignments have an algorithm on the H200 (built with
// nvcc -arch=sm_90a call1b-ltprobe.cu -lcublasLt; run with CUBLASLT_LOG_LEVEL=2). All six do once the scale
// pointers are set before the heuristic query; without them it answers status 7 ("requires a custom pointer").
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cstdio>
int main() {
  cublasLtHandle_t h; cublasLtCreate(&h);
  printf("version %zu\n", cublasLtGetVersion());
  const int M = 4096, N = 4096, K = 4096;
  for (int variant = 0; variant < 6; ++variant) {
    // 0: A=W(OP_T, BLK) B=X(OP_N, VEC)  D col N x M ; 1: A=X(OP_T, VEC) B=W(OP_N, BLK) D col M x N
    // 2: as 1 with D row-major; 3: as 0 but A VEC B BLK swapped modes; 4: as 1 modes swapped; 5: both VEC128
    cublasLtMatmulDesc_t op; cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
    cublasLtMatmulMatrixScale_t blk = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F, vec = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
    cublasLtMatmulMatrixScale_t am = (variant == 0 || variant == 4) ? blk : vec, bm = (variant == 0 || variant == 4) ? vec : blk;
    if (variant == 5) am = bm = vec;
    static void* sp = nullptr; if (!sp) cudaMalloc(&sp, 64u << 20);
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &sp, sizeof sp);
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &sp, sizeof sp);
    cublasStatus_t s1 = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &am, sizeof am);
    cublasStatus_t s2 = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &bm, sizeof bm);
    cublasLtMatrixLayout_t a, b, d;
    const bool swap = variant != 0 && variant != 3;  // A = X
    int mc = swap ? M : N, nc = swap ? N : M;
    cublasLtMatrixLayoutCreate(&a, CUDA_R_8F_E4M3, K, mc, K);
    cublasLtMatrixLayoutCreate(&b, CUDA_R_8F_E4M3, K, nc, K);
    cublasLtMatrixLayoutCreate(&d, CUDA_R_16BF, mc, nc, variant == 2 ? nc : mc);
    if (variant == 2) { cublasLtOrder_t o = CUBLASLT_ORDER_ROW; cublasLtMatrixLayoutSetAttribute(d, CUBLASLT_MATRIX_LAYOUT_ORDER, &o, sizeof o); }
    cublasLtMatmulPreference_t pref; cublasLtMatmulPreferenceCreate(&pref);
    size_t ws = 32u << 20; cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t r[4]; int found = 0;
    cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(h, op, a, b, d, d, pref, 4, r, &found);
    printf("variant %d: set %d %d heuristic status %d found %d\n", variant, s1, s2, st, found);
  }
  return 0;
}
