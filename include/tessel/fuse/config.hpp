// Portability macros shared by every fusion header: host/device markers and forced inlining.
#pragma once

// Every per-element function of a fusion chain is marked TESSEL_HOST_DEVICE, so one chain
// description compiles into a CUDA kernel (nvcc) and into the CPU loop nest (any host compiler).
#if defined(__CUDACC__)
#define TESSEL_HOST_DEVICE __host__ __device__
#define TESSEL_FUSE_INLINE __forceinline__
#else
#define TESSEL_HOST_DEVICE
// The CPU runner flattens a whole chain into one ISA-specific function; forcing the small pieces
// inline keeps that true in unoptimized builds as well.
#define TESSEL_FUSE_INLINE inline __attribute__((always_inline))
#endif

// The CPU value types are GCC/Clang vector extensions (include/tessel/fuse/simd.hpp). Functions
// that return them are compiled without AVX in their standalone (never called) copies, and GCC
// warns that such a copy would have a different ABI (-Wpsabi) at the end of the translation unit,
// where a push/pop pair around our headers no longer applies. Every call is inlined into one
// ISA-specific entry point, so no vector ever crosses a real call boundary; the warning is noise
// for any translation unit that includes the fusion headers, and it is switched off for it.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
