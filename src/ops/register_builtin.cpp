// The list of built-in ops and implementations. Dispatch is data: order comes from priorities.
#include "tessel/runtime/registry.hpp"

#include "eltwise/eltwise.hpp"
#include "gemm/gemm.hpp"
#include "layernorm/layernorm.hpp"
#include "qgemm/qgemm.hpp"
#include "rmsnorm/rmsnorm.hpp"
#include "rmsnorm_quant/rmsnorm_quant.hpp"
#include "rmsnorm_residual/rmsnorm_residual.hpp"
#include "rope/rope.hpp"
#include "softmax/softmax.hpp"
#include "swiglu/swiglu.hpp"

namespace tessel {

namespace gemm {
void register_cpu(Registry&);
void register_cpu_bf16(Registry&);
void register_openblas(Registry&);
void register_onednn(Registry&);
#ifdef TESSEL_WITH_CUDA
void register_cuda(Registry&);
void register_cuda_fp8(Registry&);
void register_cublas(Registry&);
#endif
}  // namespace gemm

void register_builtin_ops(Registry& r) {
  r.add_spec(gemm::make_spec());
  gemm::register_cpu(r);
  gemm::register_cpu_bf16(r);
  gemm::register_openblas(r);
  gemm::register_onednn(r);
#ifdef TESSEL_WITH_CUDA
  gemm::register_cuda(r);
  gemm::register_cuda_fp8(r);
  gemm::register_cublas(r);
#endif
  r.add_spec(rmsnorm::make_spec());
  rmsnorm::register_cpu(r);
  rmsnorm::register_cpu_fused(r);
  r.add_spec(softmax::make_spec());
  softmax::register_cpu(r);
  softmax::register_cpu_fused(r);
  r.add_spec(qgemm::make_spec());
  qgemm::register_cpu_lut(r);
  qgemm::register_cpu_dequant(r);
  qgemm::register_cpu_amx(r);
  qgemm::register_cpu_idot(r);
  // Fused memory-bound ops, each a fusion chain (include/tessel/fuse) on the CPU.
  r.add_spec(rmsnorm_residual::make_spec());
  rmsnorm_residual::register_cpu(r);
  r.add_spec(rmsnorm_quant::make_spec());
  rmsnorm_quant::register_cpu(r);
  r.add_spec(layernorm::make_spec());
  layernorm::register_cpu(r);
  r.add_spec(swiglu::make_spec());
  swiglu::register_cpu(r);
  r.add_spec(rope::make_spec());
  rope::register_cpu(r);
  r.add_spec(eltwise::make_spec());
  eltwise::register_cpu(r);
#ifdef TESSEL_WITH_CUDA
  // cuda.fused: the same fusion chains, each one CUDA kernel (include/tessel/fuse/cuda.hpp).
  rmsnorm::register_cuda(r);
  softmax::register_cuda(r);
  rmsnorm_residual::register_cuda(r);
  rmsnorm_quant::register_cuda(r);
  layernorm::register_cuda(r);
  swiglu::register_cuda(r);
  rope::register_cuda(r);
  eltwise::register_cuda(r);
#endif
}

}  // namespace tessel
