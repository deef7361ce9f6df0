// gemm "onednn": oneDNN's matmul primitive (Debian's libdnnl) as a CPU baseline, f32 and bf16.
//
// oneDNN picks its own kernel per ISA at run time: AVX-512 / AVX2 for f32, and for bf16 inputs
// AVX512-BF16 or AMX where the CPU has them, which makes it the yardstick for our own bf16 path.
// Primitives are created once per shape and cached (creation JIT-compiles a kernel and takes
// milliseconds; a program built on oneDNN does the same). Plain products only: the epilogue and the
// scaled fp8 forms are not offered, and supports() says so.
#ifdef TESSEL_HAVE_ONEDNN

#include <omp.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "gemm.hpp"
#include "tessel/cpu/parallel.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel::gemm {
namespace {

using dt = dnnl::memory::data_type;

dt dnnl_type(DType t) { return t == DType::bf16 ? dt::bf16 : dt::f32; }

// One engine for the process: primitives and the memory they run on must share it.
const dnnl::engine& engine() {
  static const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

// oneDNN (Debian's build) runs on OpenMP; its thread count follows omp_set_num_threads.
void use_threads(int threads) {
  static std::atomic<int> current{-1};
  const int want = threads > 0 ? threads : cpu::hardware_threads();
  if (current.exchange(want) != want) omp_set_num_threads(want);
}

// Whether this CPU's oneDNN makes bf16 matmuls at all (Debian's 2.6 needs AVX-512 for them: on an
// AVX2-only CPU every bf16 primitive fails to create), asked once per output type with a 2 x 2 x 2
// product, so that supports() can say no instead of every run failing.
bool bf16_matmul_available(DType out) {
  auto probe = [](dt c_type) {
    try {
      using dims = dnnl::memory::dims;
      const dnnl::memory::desc a(dims{2, 2}, dt::bf16, dims{2, 1}), b(dims{2, 2}, dt::bf16, dims{2, 1}), c(dims{2, 2}, c_type, dims{2, 1});
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), engine());
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  };
  static const bool to_bf16 = probe(dt::bf16), to_f32 = probe(dt::f32);
  return out == DType::bf16 ? to_bf16 : to_f32;
}

struct Cached {
  dnnl::memory::desc a, b, c;
  dnnl::matmul prim;
};

class OneDnnGemm final : public Implementation {
 public:
  std::string name() const override { return "onednn"; }
  std::string op() const override { return "gemm"; }
  Device device() const override { return Device::cpu; }
  bool is_baseline() const override { return true; }
  int priority() const override { return 1; }

  Support supports(const Problem& p) const override {
    const Shape s = Shape::from(p);
    if (s.in != DType::f32 && s.in != DType::bf16) return Support::no("onednn baseline: dtype f32 or bf16 only");
    if (s.bias || s.residual || s.act != Activation::none || s.scaling != Scaling::none)
      return Support::no("onednn baseline: plain products only (no bias, activation, residual or scales)");
    if (s.in == DType::bf16 && !bf16_matmul_available(s.out))
      return Support::no_hardware("onednn baseline: this CPU's oneDNN has no bf16 matmul (it needs AVX-512)");
    return Support::yes();
  }

  Status run(const Problem& p, const Config&, std::span<const TensorView> t, const RunContext& ctx) const override {
    const Shape s = Shape::from(p);
    const TensorIndex ix = TensorIndex::of(s);
    if (t.size() != size_t(ix.c) + 1)
      return Status::invalid("gemm", "tensors", "expected " + std::to_string(ix.c + 1) + " tensors");
    for (const TensorView& v : t)
      if (!v.is_contiguous() || v.device != Device::cpu)
        return Status::unsupported("gemm", "tensors", "onednn needs contiguous host tensors");
    if (t[size_t(ix.a)].dtype != s.in || t[size_t(ix.b)].dtype != s.in || t[size_t(ix.c)].dtype != s.out)
      return Status::invalid("gemm", "tensors", "onednn: tensor dtypes do not match the problem");
    use_threads(ctx.threads);
    try {
      const Cached& c = primitive(s);
      const dnnl::engine& eng = engine();
      dnnl::stream strm(eng);
      dnnl::memory a(c.a, eng, t[size_t(ix.a)].data), b(c.b, eng, t[size_t(ix.b)].data), out(c.c, eng, t[size_t(ix.c)].data);
      c.prim.execute(strm, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, out}});
      strm.wait();
    } catch (const dnnl::error& e) {
      return Status::error(StatusCode::backend_error, "gemm", "onednn", std::string("oneDNN: ") + e.what());
    }
    return {};
  }

 private:
  // The matmul for one shape and layout, created on first use.
  const Cached& primitive(const Shape& s) const {
    const std::string key = std::to_string(s.m) + "," + std::to_string(s.n) + "," + std::to_string(s.k) + "," +
                            (s.b == BLayout::kn ? "kn," : "nk,") + std::string(dtype_name(s.in)) + "," + std::string(dtype_name(s.out));
    std::lock_guard<std::mutex> lk(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return *it->second;
    const dnnl::engine& eng = engine();
    using dims = dnnl::memory::dims;
    auto c = std::make_unique<Cached>();
    c->a = dnnl::memory::desc(dims{s.m, s.k}, dnnl_type(s.in), dims{s.k, 1});
    // B is [K, N] either way; b=nk stores it transposed, [N, K] row-major.
    c->b = dnnl::memory::desc(dims{s.k, s.n}, dnnl_type(s.in), s.b == BLayout::kn ? dims{s.n, 1} : dims{1, s.k});
    c->c = dnnl::memory::desc(dims{s.m, s.n}, dnnl_type(s.out), dims{s.n, 1});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(c->a, c->b, c->c), eng);
    c->prim = dnnl::matmul(pd);
    return *cache_.emplace(key, std::move(c)).first->second;
  }

  mutable std::mutex mutex_;
  mutable std::map<std::string, std::unique_ptr<Cached>> cache_;
};

}  // namespace

void register_onednn(Registry& r) { r.add_impl(std::make_unique<OneDnnGemm>()); }

}  // namespace tessel::gemm

#else  // !TESSEL_HAVE_ONEDNN

namespace tessel {
class Registry;
namespace gemm {
// Built without oneDNN: no baseline to register.
void register_onednn(Registry&) {}
}  // namespace gemm
}  // namespace tessel

#endif  // TESSEL_HAVE_ONEDNN
