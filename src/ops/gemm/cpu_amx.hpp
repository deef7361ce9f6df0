// AMX-BF16 building blocks shared by gemm's cpu.amx and qgemm's cpu.amx: the runtime check, the
// tile configuration, and one 32 x 32 block of f32 results from bf16 operands (tdpbf16ps).
//
// The operand layouts: A is 32 rows of bf16 (row stride lda elements), each K step 32 bf16 wide;
// B is [steps * 16][32] 32-bit words, word (p, j) the bf16 pair (b[2p][j], b[2p+1][j]) with the
// even K element in the low half: two 16-column AMX B tiles side by side, 128 bytes a row.
#pragma once

#include <cstdint>

namespace tessel::gemm::amx {

inline constexpr int kRows = 32;        // rows of A (and C) per block: two 16-row A tiles
inline constexpr int kCols = 32;        // columns of B (and C) per block: two 16-column B tiles
inline constexpr int64_t kKPairs = 16;  // K pairs per step: a tile row holds 32 bf16 of K

// Whether this CPU has AMX-BF16 (and AVX512-BF16) and the kernel lets this process use the tile
// registers. Checked once; false on builds and machines without them.
bool usable();

// Loads the tile configuration on the calling thread (before its first block) and releases it.
void begin();
void end();

// out[32][32] (row stride 32 floats) = A . B over `steps` steps of 32 values of K.
void block(int64_t steps, const uint16_t* a, int64_t lda, const uint32_t* b, float* out);

// C[0:rows, 0:cols] = (or +=, when accumulate) out[0:rows, 0:cols], rows and cols at most 32; only
// that part of C (row stride ldc floats) is read or written.
void add_block(const float* out, float* c, int64_t ldc, int64_t rows, int64_t cols, bool accumulate);

}  // namespace tessel::gemm::amx
