// A fusion chain: a read, then any elementwise ops, row reductions and writes, as ONE type.
//
//   auto c = fuse::chain(fuse::read<bf16>(x, cols), fuse::rms_scale(eps),
//                        fuse::mul(fuse::read_bcast<bf16>(w)), fuse::write<bf16>(y, cols));
//
// A runner (cpu.hpp, cuda.hpp) evaluates it row by row. A chain with k row reductions takes k + 1
// passes over a row: pass p evaluates the ops up to the p-th reduction (reusing the statistics of
// earlier ones) and accumulates; the last pass evaluates everything and writes. Only the first
// pass's reads come from memory in practice: a row is re-read from L1/L2. Intermediate values
// live in registers; nothing but the writes reaches memory.
//
// A chain of reads and maps only (no reduction, no write) is itself a source: it can be the second
// operand of zip/add/mul, and a chain can start with one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

#include "tessel/fuse/ops.hpp"

namespace tessel::fuse {

// ---- A minimal tuple that works in device code ---------------------------------------------------

namespace detail {
template <size_t I, class T>
struct Leaf {
  T value;
};
template <class Seq, class... Ts>
struct TupImpl;
template <size_t... Is, class... Ts>
struct TupImpl<std::index_sequence<Is...>, Ts...> : Leaf<Is, Ts>... {
  TESSEL_HOST_DEVICE explicit TupImpl(const Ts&... ts) : Leaf<Is, Ts>{ts}... {}
};
template <size_t I, class T>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE T& get(Leaf<I, T>& l) {
  return l.value;
}
template <size_t I, class T>
TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE const T& get(const Leaf<I, T>& l) {
  return l.value;
}
}  // namespace detail

template <class... Ts>
struct Tup : detail::TupImpl<std::index_sequence_for<Ts...>, Ts...> {
  TESSEL_HOST_DEVICE explicit Tup(const Ts&... ts) : detail::TupImpl<std::index_sequence_for<Ts...>, Ts...>(ts...) {}
};

// ---- Chain --------------------------------------------------------------------------------------------

template <class... Ops>
struct Chain {
  static_assert(sizeof...(Ops) >= 1, "a chain needs at least a read");
  static constexpr int kOps = int(sizeof...(Ops));
  static constexpr Kind kKinds[] = {Ops::kind...};
  static_assert(kKinds[0] == Kind::read, "a chain starts with a read (or a chain of reads and maps)");

  TESSEL_HOST_DEVICE static constexpr int count(Kind k) {
    int n = 0;
    for (int i = 0; i < kOps; ++i) n += kKinds[i] == k;
    return n;
  }
  static constexpr int kReductions = count(Kind::reduce);
  static constexpr int kWrites = count(Kind::write);
  TESSEL_HOST_DEVICE static constexpr bool later_read() {
    for (int i = 1; i < kOps; ++i)
      if (kKinds[i] == Kind::read) return true;
    return false;
  }
  static_assert(!later_read(), "only the first op of a chain reads; use zip/add/mul to bring in more inputs");
  // Index of the p-th reduction.
  TESSEL_HOST_DEVICE static constexpr int reduction_at(int p) {
    for (int i = 0; i < kOps; ++i)
      if (kKinds[i] == Kind::reduce && p-- == 0) return i;
    return -1;
  }

  // As a source: a chain of reads and maps.
  static constexpr Kind kind = Kind::read;

  Tup<Ops...> ops;

  TESSEL_HOST_DEVICE explicit Chain(const Ops&... o) : ops(o...) {}

  template <int I>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE auto& op() {
    return detail::get<size_t(I)>(ops);
  }
  template <int I>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE const auto& op() const {
    return detail::get<size_t(I)>(ops);
  }

  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void begin_row(int64_t r) { begin_row_from<0>(r); }
  // Prefetches what every read of the chain will load at (row, col), where a read can say.
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void prefetch(int64_t row, int64_t col) const {
    prefetch_from<0, kOps>(row, col);
  }
  // The same for the reads of ops [Begin, End) only.
  template <int Begin, int End>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void prefetch(int64_t row, int64_t col) const {
    prefetch_from<Begin, End>(row, col);
  }

  // Evaluates ops [0, End) at `at` into v.
  template <int End, class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void eval(V& v, const A& at) const {
    eval_from<0, End>(v, at);
  }
  // Applies ops [Begin, End) to v (Begin >= 1: v is the value op Begin takes).
  template <int Begin, int End, class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void apply(V& v, const A& at) const {
    static_assert(Begin >= 1);
    eval_from<Begin, End>(v, at);
  }

  // Whether every op allows whole vectors of `lanes` (ops.hpp, VecCapable); only when all can.
  TESSEL_HOST_DEVICE bool vec_ok(int lanes) const
    requires(VecCapable<Ops> && ...)
  {
    return vec_ok_from<0>(lanes);
  }

  template <class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void load(V& v, const A& at) const {
    static_assert(kReductions == 0 && kWrites == 0, "a chain used as a source may only read and map");
    eval<kOps>(v, at);
  }

 private:
  template <int I>
  TESSEL_HOST_DEVICE bool vec_ok_from(int lanes) const {
    if constexpr (I < kOps)
      return op<I>().vec_ok(lanes) && vec_ok_from<I + 1>(lanes);
    else
      return true;
  }
  template <int I>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void begin_row_from(int64_t r) {
    if constexpr (I < kOps) {
      op<I>().begin_row(r);
      begin_row_from<I + 1>(r);
    }
  }
  template <int I, int End>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void prefetch_from(int64_t row, int64_t col) const {
    if constexpr (I < End) {
      if constexpr (requires { op<I>().prefetch(row, col); }) op<I>().prefetch(row, col);
      prefetch_from<I + 1, End>(row, col);
    }
  }
  template <int I>
  using OpAt = std::tuple_element_t<size_t(I), std::tuple<Ops...>>;
  template <int I, int End, class V, class A>
  TESSEL_HOST_DEVICE TESSEL_FUSE_INLINE void eval_from(V& v, const A& at) const {
    if constexpr (I < End) {
      if constexpr (I == 0)
        op<0>().load(v, at);
      else if constexpr (kExactWrite<OpAt<I - 1>, OpAt<I>>)
        op<I>().apply_exact(v, at);
      else
        op<I>().apply(v, at);
      eval_from<I + 1, End>(v, at);
    }
  }
};

template <class... Ops>
TESSEL_HOST_DEVICE Chain<Ops...> chain(const Ops&... ops) {
  return Chain<Ops...>(ops...);
}

}  // namespace tessel::fuse
