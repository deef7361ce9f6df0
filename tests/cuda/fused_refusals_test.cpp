// The shell every cuda.fused implementation shares (src/ops/fused_cuda.cuh) refuses bad tensors
// with a clear error before any CUDA call: host memory, a missing tensor, a strided view. One op's
// first sample at a time, over every op that has cuda.fused. Host-only, so it runs in CI too.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessel/runtime/op.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

// Host buffers shaped as the spec lists the problem's tensors.
struct HostTensors {
  std::vector<std::vector<char>> buffers;
  std::vector<TensorView> views;
  explicit HostTensors(const OpSpec& spec, const Problem& p) {
    for (const TensorDesc& t : spec.tensors(p)) {
      int64_t elems = 1;
      for (int64_t e : t.shape) elems *= e;
      buffers.emplace_back(size_t(elems) * 8 + 64);
      views.push_back({buffers.back().data(), t.dtype, t.shape, contiguous_strides(t.shape), Device::cpu});
    }
  }
};

bool has(const Status& st, const std::string& needle) { return st.message().find(needle) != std::string::npos; }

TEST(CudaFusedRefusals, BadTensorsGetAClearError) {
  int ops = 0;
  for (const OpSpec* spec : Registry::global().specs()) {
    const Implementation* impl = Registry::global().impl(spec->name(), "cuda.fused");
    if (!impl) continue;
    ++ops;
    auto p = spec->parse(spec->samples().front());
    ASSERT_TRUE(p.ok()) << spec->name();
    ASSERT_TRUE(impl->supports(*p).ok) << spec->name() << ": " << impl->supports(*p).reason;

    HostTensors host(*spec, *p);
    const Status on_host = impl->run(*p, {}, host.views, RunContext{});
    EXPECT_TRUE(!on_host.ok() && has(on_host, "CUDA device memory")) << spec->name() << ": " << on_host.message();

    std::vector<TensorView> missing(host.views.begin(), host.views.end() - 1);
    const Status short_list = impl->run(*p, {}, missing, RunContext{});
    EXPECT_TRUE(!short_list.ok() && has(short_list, "cuda.fused expects")) << spec->name() << ": " << short_list.message();

    // Marked as device memory but strided: refused as non-contiguous (nothing is dereferenced).
    std::vector<TensorView> strided = host.views;
    for (TensorView& v : strided) v.device = Device::cuda;
    TensorView& first = strided.front();
    first.strides.back() = 2;
    const Status st = impl->run(*p, {}, strided, RunContext{});
    EXPECT_TRUE(!st.ok() && has(st, "contiguous")) << spec->name() << ": " << st.message();
  }
  EXPECT_GE(ops, 8) << "every fused op and rmsnorm and softmax have cuda.fused";
}

}  // namespace
}  // namespace tessel
