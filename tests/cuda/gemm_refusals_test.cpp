// What the CUDA gemm implementations refuse, and how they say it: supports() reasons for shapes,
// dtypes and layouts they cannot run, bad tunables, and host memory handed to run(). None of this
// touches the GPU, so it runs in CI (a build with nvcc and no device) as well as on the H200.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessel/runtime/op.hpp"
#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

const Implementation& impl(const char* name) {
  const Implementation* i = Registry::global().impl("gemm", name);
  EXPECT_NE(i, nullptr) << name << " is not registered";
  return *i;
}

Problem parse(const std::string& d) {
  auto p = Registry::global().spec("gemm")->parse(d);
  EXPECT_TRUE(p.ok()) << d << ": " << p.status().message();
  return *p;
}

// supports() says no, and its reason names the rule (`needle`).
void expect_refused(const char* name, const std::string& d, const std::string& needle) {
  const Support s = impl(name).supports(parse(d));
  EXPECT_FALSE(s.ok) << name << " accepted " << d;
  EXPECT_NE(s.reason.find(needle), std::string::npos) << name << " on " << d << ": \"" << s.reason << "\"";
}

TEST(CudaGemmRefusals, Fp8SaysWhatItNeeds) {
  const char* fp8 = "cuda.wgmma.fp8";
  EXPECT_TRUE(impl(fp8).supports(parse("gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk")).ok);
  EXPECT_TRUE(impl(fp8).supports(parse("gemm m=1 n=16 k=16 dtype=e4m3 scale=tensor b=nk")).ok);
  EXPECT_TRUE(impl(fp8).supports(parse("gemm m=7 n=130 k=304 dtype=e4m3 scale=block scale_layout=km b=nk")).ok);
  expect_refused(fp8, "gemm m=64 n=64 k=64 dtype=bf16 b=nk", "e4m3");
  expect_refused(fp8, "gemm m=64 n=64 k=64 dtype=e4m3 scale=block b=kn", "b=nk");
  expect_refused(fp8, "gemm m=64 n=64 k=64 dtype=e4m3 scale=tensor b=nk out=f32", "out=bf16");
  expect_refused(fp8, "gemm m=64 n=64 k=72 dtype=e4m3 scale=block b=nk", "multiple of 16");
}

// cuBLASLt's block-scaled fp8 kernel reads scale_a K-block-major and pads the weights' scale rows to 4 K
// blocks: the baseline takes only the shapes and layouts where our dense scale tensors are its layout.
TEST(CudaGemmRefusals, CublasLtBlockScalesSayWhatTheyNeed) {
  const char* lt = "cublaslt";
  EXPECT_TRUE(impl(lt).supports(parse("gemm m=132 n=640 k=1536 dtype=e4m3 scale=block scale_layout=km b=nk")).ok);
  EXPECT_TRUE(impl(lt).supports(parse("gemm m=4 n=4096 k=512 dtype=e4m3 scale=tensor b=nk")).ok);
  expect_refused(lt, "gemm m=256 n=384 k=512 dtype=e4m3 scale=block b=nk", "scale_layout=km");
  expect_refused(lt, "gemm m=256 n=384 k=384 dtype=e4m3 scale=block scale_layout=km b=nk", "multiple of 512");
  expect_refused(lt, "gemm m=6 n=384 k=512 dtype=e4m3 scale=block scale_layout=km b=nk", "multiple of 4");
  expect_refused(lt, "gemm m=256 n=384 k=512 dtype=e4m3 scale=block scale_layout=km b=nk bias=true",
                 "without fused epilogues");
}

TEST(CudaGemmRefusals, Bf16KernelsSayWhatTheyNeed) {
  EXPECT_TRUE(impl("cuda.wgmma").supports(parse("gemm m=300 n=520 k=1000 dtype=bf16")).ok);
  expect_refused("cuda.wgmma", "gemm m=64 n=64 k=64", "dtype=bf16");
  expect_refused("cuda.wgmma", "gemm m=64 n=64 k=60 dtype=bf16 b=nk", "multiple of 8");
  expect_refused("cuda.wgmma", "gemm m=64 n=60 k=64 dtype=bf16 b=kn", "multiple of 8");
  expect_refused("cuda.wgmma.skinny", "gemm m=17 n=64 k=64 dtype=bf16 b=nk", "m <= 16");
  expect_refused("cuda.wgmma.skinny", "gemm m=16 n=64 k=64 dtype=bf16 b=kn", "b=nk");
}

TEST(CudaGemmRefusals, TunablesOutsideTheirListsAreRejected) {
  const Problem p = parse("gemm m=256 n=256 k=256 dtype=e4m3 scale=tensor b=nk");
  EXPECT_TRUE(check_config(impl("cuda.wgmma.fp8"), p, {{"accum", 1}}).ok());
  EXPECT_FALSE(check_config(impl("cuda.wgmma.fp8"), p, {{"accum", 3}}).ok());
  EXPECT_FALSE(check_config(impl("cuda.wgmma.fp8"), p, {{"tile_n", 160}}).ok());
  const Problem b = parse("gemm m=128 n=4096 k=4096 dtype=bf16 b=nk");
  EXPECT_TRUE(check_config(impl("cuda.wgmma"), b, {{"tile_n", 64}, {"splits", 2}}).ok());
  EXPECT_FALSE(check_config(impl("cuda.wgmma"), b, {{"tile_n", 32}}).ok());
}

// Host pointers where device memory is expected: a clear error before any CUDA call.
TEST(CudaGemmRefusals, HostMemoryIsRefusedByName) {
  for (const char* d : {"gemm m=64 n=64 k=64 dtype=e4m3 scale=tensor b=nk", "gemm m=64 n=64 k=64 dtype=bf16 b=nk"}) {
    const Problem p = parse(d);
    const char* name = std::string(d).find("e4m3") != std::string::npos ? "cuda.wgmma.fp8" : "cuda.wgmma";
    std::vector<std::vector<char>> buffers;
    std::vector<TensorView> views;
    for (const TensorDesc& t : Registry::global().spec("gemm")->tensors(p)) {
      int64_t elems = 1;
      for (int64_t e : t.shape) elems *= e;
      buffers.emplace_back(size_t(elems) * 4);
      views.push_back({buffers.back().data(), t.dtype, t.shape, contiguous_strides(t.shape), Device::cpu});
    }
    const Status st = impl(name).run(p, {}, views, RunContext{});
    EXPECT_FALSE(st.ok()) << name << " ran on host memory";
    EXPECT_NE(st.message().find("CUDA device memory"), std::string::npos) << name << ": " << st.message();
  }
}

}  // namespace
}  // namespace tessel
