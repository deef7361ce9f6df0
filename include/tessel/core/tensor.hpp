// TensorView: a non-owning view of strided device or host memory with a dtype.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessel/core/dtype.hpp"

namespace tessel {

enum class Device : uint8_t { cpu, cuda };
std::string_view device_name(Device d);

// Shapes and strides are in elements, outermost first. Packed sub-byte dtypes must be contiguous in
// their last dimension (stride 1), since an element there has no byte address of its own.
struct TensorView {
  void* data = nullptr;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  Device device = Device::cpu;

  int rank() const { return static_cast<int>(shape.size()); }
  int64_t numel() const;
  int64_t size(int dim) const { return shape.at(static_cast<size_t>(dim < 0 ? dim + rank() : dim)); }
  int64_t stride(int dim) const { return strides.at(static_cast<size_t>(dim < 0 ? dim + rank() : dim)); }
  bool is_contiguous() const;
  template <class T>
  T* ptr() const { return static_cast<T*>(data); }
};

// Row-major contiguous strides for a shape.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);
// "[4096, 4096]"
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace tessel
