// Shared tiles with the 128-byte swizzle that TMA writes and wgmma reads, and their wgmma descriptors.
#pragma once

#include "tessel/cuda/common.cuh"

namespace tessel::cuda {

// ---- The 128-byte swizzle ---------------------------------------------------------------------------
// A swizzled tile is cut into column panels whose rows are exactly 128 bytes. Inside a panel, row r's
// sixteen-byte chunk j is stored at chunk j ^ (r % 8). Eight consecutive rows therefore spread one
// logical column over all 32 banks, and the same rule is what TMA (CU_TENSOR_MAP_SWIZZLE_128B) and
// wgmma (descriptor layout 1) apply, as long as each panel starts on a 1024-byte boundary.

inline constexpr int kSwizzleBytes = 128;
inline constexpr int kSwizzleAtomBytes = 1024;  // 8 rows of 128 bytes: the period of the pattern

TESSEL_HOST_DEVICE constexpr uint32_t swizzle128(uint32_t row, uint32_t byte_in_row) {
  return row * kSwizzleBytes + ((((byte_in_row >> 4) ^ (row & 7u)) & 7u) << 4) + (byte_in_row & 15u);
}

// st<T, Rows, Cols>: a Rows x Cols tile of T in shared memory, stored as Cols / panel_cols panels of
// Rows x 128 bytes, one after another. A tile whose Cols fit one panel is a plain swizzled matrix.
template <class T, int Rows, int Cols>
struct alignas(kSwizzleAtomBytes) st {
  using value_type = T;
  static constexpr int rows = Rows;
  static constexpr int cols = Cols;
  static constexpr int panel_cols = kSwizzleBytes / static_cast<int>(sizeof(T));
  static constexpr int panels = Cols / panel_cols;
  static constexpr int panel_bytes = Rows * kSwizzleBytes;
  static constexpr int bytes = Rows * Cols * static_cast<int>(sizeof(T));
  static_assert(Cols % panel_cols == 0, "a swizzled tile's columns fill whole 128-byte panels");
  static_assert(Rows % 8 == 0, "a swizzled tile's rows fill whole 8-row swizzle atoms");

  T data[Rows * Cols];

  // Byte offset of element (r, c) from the start of the tile.
  static TESSEL_HOST_DEVICE constexpr uint32_t offset(int r, int c) {
    return static_cast<uint32_t>((c / panel_cols) * panel_bytes) +
           swizzle128(static_cast<uint32_t>(r), static_cast<uint32_t>((c % panel_cols) * sizeof(T)));
  }
  TESSEL_DEVICE T& at(int r, int c) {
    return *reinterpret_cast<T*>(reinterpret_cast<char*>(data) + offset(r, c));
  }
  TESSEL_DEVICE const T& at(int r, int c) const {
    return *reinterpret_cast<const T*>(reinterpret_cast<const char*>(data) + offset(r, c));
  }
};

template <int Rows, int Cols>
using st_bf = st<bf16, Rows, Cols>;
// An fp8 tile's 128-byte panel is 128 values wide: one panel holds a whole k128 slice.
template <int Rows, int Cols>
using st_fp8 = st<fp8e4m3, Rows, Cols>;

// ---- wgmma shared-memory descriptors ----------------------------------------------------------------
// A descriptor names a matrix operand in shared memory: its start address, two strides and the swizzle.
// Bits 0-13 hold the address, 16-29 the leading byte offset (LBO), 32-45 the stride byte offset (SBO),
// all in 16-byte units; bits 62-63 the swizzle (1 = 128 bytes).

TESSEL_DEVICE uint64_t make_smem_desc(uint32_t smem_address, uint32_t lbo_bytes, uint32_t sbo_bytes) {
  uint64_t d = 0;
  d |= static_cast<uint64_t>((smem_address & 0x3FFFFu) >> 4);
  d |= static_cast<uint64_t>((lbo_bytes & 0x3FFFFu) >> 4) << 16;
  d |= static_cast<uint64_t>((sbo_bytes & 0x3FFFFu) >> 4) << 32;
  d |= uint64_t{1} << 62;
  return d;
}

// K-major operand: the tile's rows are the M (or N) index and its columns are K, as for A[M,K] and for
// B stored [N,K]. The 8-row groups are 1024 bytes apart (SBO); LBO is unused because a k16 slice lies
// inside one 128-byte row. Stepping K by 16 moves the start 32 bytes, which the hardware swizzles
// from the address bits exactly as TMA did.
template <class Tile>
TESSEL_DEVICE uint64_t desc_k_major(const Tile& t, int row0, int k0) {
  const uint32_t base = smem_addr(&t) + static_cast<uint32_t>((k0 / Tile::panel_cols) * Tile::panel_bytes) +
                        static_cast<uint32_t>(row0 * kSwizzleBytes) +
                        static_cast<uint32_t>((k0 % Tile::panel_cols) * sizeof(typename Tile::value_type));
  return make_smem_desc(base, 16, kSwizzleAtomBytes);
}

// MN-major operand: the tile's rows are K and its columns are N, as for B stored [K,N]. One swizzle
// atom covers 64 N by 8 K; atoms along N are a panel apart (LBO), atoms along K 1024 bytes apart (SBO).
template <class Tile>
TESSEL_DEVICE uint64_t desc_mn_major(const Tile& t, int k0, int n0) {
  const uint32_t base = smem_addr(&t) + static_cast<uint32_t>((n0 / Tile::panel_cols) * Tile::panel_bytes) +
                        static_cast<uint32_t>(k0 * kSwizzleBytes);
  return make_smem_desc(base, Tile::panel_bytes, kSwizzleAtomBytes);
}

}  // namespace tessel::cuda
