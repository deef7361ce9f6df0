// Descriptor parsing: round trips, one clear error per broken rule, and random garbage never crashes.
#include <gtest/gtest.h>

#include <random>

#include "tessel/runtime/registry.hpp"

namespace tessel {
namespace {

const Registry& reg() { return Registry::global(); }

TEST(Descriptor, RoundTripsToCanonicalForm) {
  auto p = reg().parse("gemm m=4096 n=4096 k=4096 dtype=bf16");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const std::string canon = reg().spec("gemm")->format(*p);
  EXPECT_EQ(canon, "gemm m=4096 n=4096 k=4096 dtype=bf16");
  EXPECT_EQ(reg().spec("gemm")->format(*reg().parse("gemm k=3 b=nk n=2 m=1 bias=false")), "gemm m=1 n=2 k=3 b=nk");
  auto again = reg().parse(canon);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(reg().spec("gemm")->format(*again), canon);
  EXPECT_EQ(again->values(), p->values());
}

TEST(Descriptor, EverySampleRoundTrips) {
  for (const OpSpec* spec : reg().specs())
    for (const auto& d : spec->samples()) {
      auto p = reg().parse(d);
      ASSERT_TRUE(p.ok()) << d << ": " << p.status().message();
      auto again = reg().parse(spec->format(*p));
      ASSERT_TRUE(again.ok()) << spec->format(*p);
      EXPECT_EQ(again->values(), p->values()) << d;
    }
}

TEST(Descriptor, AliasesAndWhitespaceNormalize) {
  auto p = reg().parse("  gemm\tm=0008 n=8 k=8 dtype=bfloat16 bias=1  ");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->i64("m"), 8);
  EXPECT_EQ(p->str("dtype"), "bf16");
  EXPECT_TRUE(p->flag("bias"));
}

struct BadCase {
  const char* text;
  const char* op;
  const char* param;
  const char* rule_fragment;
};

TEST(Descriptor, ErrorsNameOpParameterAndRule) {
  const BadCase cases[] = {
      {"", "descriptor", "op", "op name"},
      {"gemmm m=1 n=1 k=1", "gemmm", "op", "unknown op"},
      {"gemm m=1 n=1", "gemm", "k", "required"},
      {"gemm m=1 n=1 k=1 q=3", "gemm", "q", "unknown parameter"},
      {"gemm m=1 m=2 n=1 k=1", "gemm", "m", "more than once"},
      {"gemm m=x n=1 k=1", "gemm", "m", "integer"},
      {"gemm m=0 n=1 k=1", "gemm", "m", "must be in"},
      {"gemm m=-5 n=1 k=1", "gemm", "m", "must be in"},
      {"gemm m=99999999999999999999 n=1 k=1", "gemm", "m", "integer"},
      {"gemm m=1 n=1 k=1 dtype=f17", "gemm", "dtype", "unknown dtype"},
      {"gemm m=1 n=1 k=1 dtype=i8", "gemm", "dtype", "not supported"},
      {"gemm m=1 n=1 k=1 b=mk", "gemm", "b", "one of"},
      {"gemm m=1 n=1 k=1 bias=maybe", "gemm", "bias", "true or false"},
      {"gemm m=1 n=1 k=1 dtype=e4m3", "gemm", "scale", "e4m3"},
      {"gemm m=1 n=1 k", "gemm", "k", "key=value"},
      {"gemm m=1 n=1 k=", "gemm", "k", "empty value"},
      {"gemm m=1 n=1 k=1 ;rm", "gemm", "descriptor", "expected key=value"},
      {"gemm m=1 n=1 k=1;rm", "gemm", "descriptor", "unexpected character"},
      {"gemm m=1048576 n=1048576 k=1048576", "gemm", "m*k+n*k+m*n", "2^34"},
  };
  for (const auto& c : cases) {
    auto p = reg().parse(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::invalid_argument) << c.text;
    EXPECT_EQ(p.status().op(), c.op) << c.text << " -> " << p.status().message();
    EXPECT_EQ(p.status().param(), c.param) << c.text << " -> " << p.status().message();
    EXPECT_NE(p.status().rule().find(c.rule_fragment), std::string::npos) << c.text << " -> " << p.status().message();
  }
}

// Random byte strings, and random mutations of valid descriptors, must parse or fail cleanly; a
// successful parse must round-trip.
TEST(Descriptor, RandomMalformedInputNeverCrashes) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "gemrsoftaxn=k0123456789 _.-+\t\x01\xff=bf16e4m3";
  std::vector<std::string> seeds;
  for (const OpSpec* spec : reg().specs())
    for (const auto& d : spec->samples()) seeds.push_back(d);
  int parsed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    if (iter % 2) {
      const size_t len = rng() % 40;
      for (size_t i = 0; i < len; ++i) s += char(rng() % 256);
    } else {
      s = seeds[rng() % seeds.size()];
      for (int e = 0, edits = int(rng() % 4) + 1; e < edits && !s.empty(); ++e) {
        const size_t pos = rng() % s.size();
        switch (rng() % 3) {
          case 0: s.erase(pos, 1); break;
          case 1: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          default: s[pos] = alphabet[rng() % alphabet.size()];
        }
      }
    }
    auto p = reg().parse(s);
    if (!p.ok()) {
      EXPECT_FALSE(p.status().message().empty());
      continue;
    }
    ++parsed;
    auto again = reg().parse(reg().spec(p->op())->format(*p));
    ASSERT_TRUE(again.ok()) << s;
    EXPECT_EQ(again->values(), p->values());
  }
  EXPECT_GT(parsed, 100);  // the mutations must also reach the valid side
}

}  // namespace
}  // namespace tessel
