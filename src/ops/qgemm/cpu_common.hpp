// Target-independent pieces the CPU qgemm implementations share: decoded arguments, plane weights,
// activation rows in f32, and per-thread scratch that survives between calls.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>

#include "qgemm.hpp"
#include "tessel/runtime/op.hpp"

namespace tessel::qgemm {

// Everything one call needs, decoded once from the problem and the tensors.
struct CpuArgs {
  Shape s;
  const void* x = nullptr;        // [m, k] f32 or bf16
  const uint8_t* w = nullptr;     // packed weights
  const void* scales = nullptr;   // scale dtype
  const void* zeros = nullptr;    // uint: scale dtype
  float global_scale = 1.0f;      // nvfp4
  float* y = nullptr;             // [m, n] f32
  int threads = 0;                // 0: all, and a single thread for tiny problems
  int64_t chunk = 0;              // rows of X per pass (tunable "chunk"); 0: about 1 MiB of their data
  bool row_lanes = true;          // cpu.lut's tunable "row_lanes" (see LutGemm); false: planar kernels only

  // Planar geometry.
  int64_t tiles = 0, octets = 0, groups = 0;

  static Status decode(const Problem& p, const Config& config, std::span<const TensorView> t, const RunContext& ctx,
                       const char* impl, CpuArgs* out) {
    out->s = Shape::from(p);
    const TensorIndex ix = TensorIndex::of(out->s);
    if (t.size() != size_t(ix.y) + 1)
      return Status::invalid("qgemm", "tensors", "expected " + std::to_string(ix.y + 1) + " tensors");
    for (const TensorView& v : t)
      if (!v.is_contiguous() || v.device != Device::cpu)
        return Status::unsupported("qgemm", "tensors", std::string(impl) + " needs contiguous host tensors");
    // Each tensor must hold what the format says, in the right dtype: a mismatch is a caller's
    // bug that would otherwise read out of bounds.
    const quant::Shapes sh = quant::shapes(out->s.fmt, out->s.n, out->s.k);
    auto check = [&](int index, const char* name, DType dtype, int64_t count) -> Status {
      if (index < 0) return {};
      const TensorView& v = t[size_t(index)];
      if (v.dtype != dtype || v.numel() != count || (count > 0 && v.data == nullptr))
        return Status::invalid("qgemm", name, "expected " + std::to_string(count) + " elements of " +
                                                  std::string(dtype_name(dtype)) + ", got " + std::to_string(v.numel()) +
                                                  " of " + std::string(dtype_name(v.dtype)));
      return {};
    };
    TESSEL_RETURN_IF_ERROR(check(ix.x, "X", out->s.act, out->s.m * out->s.k));
    TESSEL_RETURN_IF_ERROR(check(ix.w, "W", DType::u8, sh.weight_bytes));
    TESSEL_RETURN_IF_ERROR(check(ix.scales, "scales", out->s.fmt.scale_dtype, sh.scale_count));
    TESSEL_RETURN_IF_ERROR(check(ix.zeros, "zeros", out->s.fmt.scale_dtype, sh.zero_count));
    TESSEL_RETURN_IF_ERROR(check(ix.global_scale, "global_scale", DType::f32, 1));
    TESSEL_RETURN_IF_ERROR(check(ix.y, "Y", DType::f32, out->s.m * out->s.n));
    out->x = t[size_t(ix.x)].data;
    out->w = t[size_t(ix.w)].ptr<const uint8_t>();
    out->scales = t[size_t(ix.scales)].data;
    out->zeros = ix.zeros >= 0 ? t[size_t(ix.zeros)].data : nullptr;
    if (ix.global_scale >= 0) std::memcpy(&out->global_scale, t[size_t(ix.global_scale)].data, sizeof(float));
    out->y = t[size_t(ix.y)].ptr<float>();
    out->threads = ctx.threads;
    const auto it = config.find("chunk");
    out->chunk = it == config.end() ? 0 : it->second;
    if (out->chunk < 0) return Status::invalid("qgemm", "chunk", std::string(impl) + ": chunk must be 0 (auto) or positive");
    const auto lanes = config.find("row_lanes");
    out->row_lanes = lanes == config.end() || lanes->second != 0;
    const quant::Format& f = out->s.fmt;
    out->tiles = (out->s.n + quant::kTileRows - 1) / quant::kTileRows;
    out->octets = (out->s.k + quant::kOctet - 1) / quant::kOctet;
    out->groups = f.groups(out->s.k);
    return {};
  }
};

// The value of a planar code is sum_b c[b] * bit_b + w0 (docs/formats.md); uint subtracts its zero
// point on top. These are the c[b] and w0 of each scheme.
struct PlaneWeights {
  int c[8] = {};
  int w0 = 0;
  static PlaneWeights of(const quant::Format& f) {
    PlaneWeights p;
    if (f.scheme == quant::Scheme::ternary) {
      p.c[0] = 1;
      p.c[1] = -1;
      return p;
    }
    for (int b = 0; b < f.bits; ++b) p.c[b] = 1 << b;
    if (f.scheme == quant::Scheme::int_sym) {
      if (f.bits == 1) {
        p.c[0] = 2;  // {-1, +1}
        p.w0 = -1;
      } else {
        p.c[f.bits - 1] = -(1 << (f.bits - 1));  // two's complement
      }
    }
    return p;
  }
};

// Decoded block scales: E8M0 and e4m3 as f32 tables, built once.
inline const std::array<float, 256>& e8m0_table() {
  static const std::array<float, 256> t = [] {
    std::array<float, 256> v{};
    for (int e = 0; e < 256; ++e) v[size_t(e)] = float(quant::e8m0_to_double(uint8_t(e)));
    return v;
  }();
  return t;
}
inline const std::array<float, 256>& e4m3_table() {
  static const std::array<float, 256> t = [] {
    std::array<float, 256> v{};
    for (int e = 0; e < 256; ++e) v[size_t(e)] = e4m3_bits_to_f32(uint8_t(e));
    return v;
  }();
  return t;
}

inline float bf16_to_f32(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Threads for a call: the caller's count, or all of them unless the problem is too small to repay
// waking the pool (a few microseconds).
inline int call_threads(const CpuArgs& a, int hardware) {
  if (a.threads > 0) return a.threads;
  return double(a.s.m) * double(a.s.n) * double(a.s.k) < 2e6 ? 1 : hardware;
}

// Row `row` of X as f32 into dst[0, k), zero-filled up to `padded` (padded weights then meet zeros).
inline void activation_row(const CpuArgs& a, int64_t row, float* dst, int64_t padded) {
  const int64_t k = a.s.k;
  if (a.s.act == DType::f32) {
    std::memcpy(dst, static_cast<const float*>(a.x) + row * k, size_t(k) * sizeof(float));
  } else {
    const uint16_t* src = static_cast<const uint16_t*>(a.x) + row * k;
    for (int64_t i = 0; i < k; ++i) dst[i] = bf16_to_f32(src[i]);
  }
  std::fill(dst + k, dst + padded, 0.0f);
}

// Per-thread buffers that grow and are kept, so steady-state calls neither allocate nor fault pages.
template <int kSlot>
inline void* scratch_bytes(size_t bytes) {
  struct Free {
    void operator()(void* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  thread_local std::unique_ptr<void, Free> ptr;
  thread_local size_t capacity = 0;
  if (bytes > capacity) {
    ptr.reset(::operator new[](bytes, std::align_val_t{64}));
    capacity = bytes;
  }
  return ptr.get();
}

}  // namespace tessel::qgemm
