// The qgemm op's decoded problem, shared by its spec and every qgemm implementation.
#pragma once

#include <memory>

#include "tessel/quant/format.hpp"
#include "tessel/runtime/op.hpp"

namespace tessel {
class Registry;
}

namespace tessel::qgemm {

// Y[M,N] (f32) = X[M,K] . dequant(W)[N,K]^T, X f32 or bf16, W packed in a tessel::quant format.
struct Shape {
  int64_t m = 0, n = 0, k = 0;
  quant::Format fmt;
  DType act = DType::f32;

  static Shape from(const Problem& p);
};

// Tensor order, as spec.tensors() lists them: X, W, scales, [zeros], [global_scale], Y.
struct TensorIndex {
  int x = 0, w = 1, scales = 2, zeros = -1, global_scale = -1, y = 3;
  static TensorIndex of(const Shape& s);
};

// The LUT route quantizes activations: every 32 activations of a row become tables of int8 partial
// sums (one scale per 32). This is the error model the spec's tolerance is built on.
inline constexpr int64_t kLutBlock = 32;

std::unique_ptr<OpSpec> make_spec();
void register_cpu_lut(Registry& r);
void register_cpu_dequant(Registry& r);
void register_cpu_idot(Registry& r);
void register_cpu_amx(Registry& r);

// The Highway target the dynamic dispatch picks for each implementation right now (for tests that
// force a target with hwy::SetSupportedTargetsForTest).
const char* lut_target_name();
const char* dequant_target_name();
const char* idot_target_name();

}  // namespace tessel::qgemm
