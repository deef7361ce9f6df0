// rope "cpu.fused": q and k rotated in ONE parallel_for (horizontal fusion of two chains with
// different tensors and head counts), each a rotary read followed by a write.
//
//   instance 1: read_rope(q) -> write q_out    over [tokens * heads_q, dim]
//   instance 2: read_rope(k) -> write k_out    over [tokens * heads_k, dim]
//
// The rotary read computes its token's cos/sin row once and reuses it for every head of that token.
#include <cstdlib>

#include "rope.hpp"
#include "../cpu_fused.hpp"
#include "tessel/fuse/fuse.hpp"
#include "tessel/fuse/rope.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::rope {
namespace {

namespace fz = tessel::fuse;

template <class T, fz::RopeStyle kStyle>
void run_typed(const Shape& s, std::span<const TensorView> t, const double* f, const fz::cpu::Options& o) {
  using S = typename T::storage;
  const auto* pos = t[kPositions].ptr<const int32_t>();
  const auto cq = fz::chain(fz::read_rope<T, kStyle>(t[kQ].ptr<const S>(), s.heads_q, s.dim, pos, f),
                            fz::write<T>(t[kQOut].ptr<S>(), s.dim));
  const auto ck = fz::chain(fz::read_rope<T, kStyle>(t[kK].ptr<const S>(), s.heads_k, s.dim, pos, f),
                            fz::write<T>(t[kKOut].ptr<S>(), s.dim));
  fz::cpu::run_many(o, fz::cpu::instance(cq, s.tokens * s.heads_q, s.dim),
                    fz::cpu::instance(ck, s.tokens * s.heads_k, s.dim));
}

template <class T>
void run_style(const Shape& s, std::span<const TensorView> t, const double* f, const fz::cpu::Options& o) {
  if (s.neox)
    run_typed<T, fz::RopeStyle::neox>(s, t, f, o);
  else
    run_typed<T, fz::RopeStyle::gptj>(s, t, f, o);
}

class CpuFusedRope final : public fused::CpuFusedImpl {
 public:
  CpuFusedRope() : CpuFusedImpl("rope") {}

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (Support d = supports_dtype(s.dtype); !d.ok) return d;
    if (s.dim > fz::ReadRope<fz::f32, fz::RopeStyle::neox>::kMax)
      return Support::no("cpu.fused keeps a cos/sin row of at most 512 entries");
    return Support::yes();
  }

 protected:
  Status run_chain(const Problem& p, std::span<const TensorView> t, const fz::cpu::Options& o) const override {
    if (t.size() != 5) return Status::invalid("rope", "tensors", "expected positions, q, k, q_out and k_out");
    const Shape s = Shape::from(p);
    const auto* pos = t[kPositions].ptr<const int32_t>();
    for (int64_t i = 0; i < s.tokens; ++i)
      if (std::llabs(pos[i]) >= kMaxPosition)
        return Status::invalid(
            "rope", "positions",
            "|position| must be below 2^24, got " + std::to_string(pos[i]) + " at token " + std::to_string(i));
    const std::vector<double> f = inv_freq(s.theta, s.dim);
    if (s.dtype == DType::bf16)
      run_style<fz::bf16>(s, t, f.data(), o);
    else
      run_style<fz::f32>(s, t, f.data(), o);
    return {};
  }
};

}  // namespace

void register_cpu(Registry& r) { r.add_impl(std::make_unique<CpuFusedRope>()); }

}  // namespace tessel::rope
