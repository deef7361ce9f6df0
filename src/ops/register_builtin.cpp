// The list of built-in ops and implementations. Dispatch is data: order comes from priorities.
#include "tessel/runtime/registry.hpp"

#include "gemm/gemm.hpp"
#include "qgemm/qgemm.hpp"
#include "rmsnorm/rmsnorm.hpp"
#include "softmax/softmax.hpp"

namespace tessel {

namespace gemm {
void register_cpu(Registry&);
void register_openblas(Registry&);
#ifdef TESSEL_WITH_CUDA
void register_cuda(Registry&);
void register_cublas(Registry&);
#endif
}  // namespace gemm

void register_builtin_ops(Registry& r) {
  r.add_spec(gemm::make_spec());
  gemm::register_cpu(r);
  gemm::register_openblas(r);
#ifdef TESSEL_WITH_CUDA
  gemm::register_cuda(r);
  gemm::register_cublas(r);
#endif
  r.add_spec(rmsnorm::make_spec());
  rmsnorm::register_cpu(r);
  r.add_spec(softmax::make_spec());
  softmax::register_cpu(r);
  r.add_spec(qgemm::make_spec());
  qgemm::register_cpu_lut(r);
  qgemm::register_cpu_dequant(r);
}

}  // namespace tessel
