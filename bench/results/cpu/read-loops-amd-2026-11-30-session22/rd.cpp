#include <immintrin.h>
#include <sys/mman.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>
#include <algorithm>
static unsigned long long rs(const char* src, size_t bytes) {
  const __m128i* s = (const __m128i*)src; __m128i a=_mm_setzero_si128(),b=a,c=a,d=a; size_t n=bytes/64;
  for (size_t i=0;i<n;++i){a=_mm_add_epi64(a,_mm_load_si128(s+4*i));b=_mm_add_epi64(b,_mm_load_si128(s+4*i+1));c=_mm_add_epi64(c,_mm_load_si128(s+4*i+2));d=_mm_add_epi64(d,_mm_load_si128(s+4*i+3));}
  __m128i t=_mm_add_epi64(_mm_add_epi64(a,b),_mm_add_epi64(c,d)); unsigned long long o[2]; _mm_storeu_si128((__m128i*)o,t); return o[0]+o[1];
}
int main(){
  size_t B = 512ull<<20; char* p=(char*)mmap(nullptr,B,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); madvise(p,B,MADV_HUGEPAGE); memset(p,1,B);
  volatile unsigned long long sink=0;
  for (int th : {1,2,1,2}) {
    std::vector<double> ts;
    for (int rep=0; rep<7; ++rep) {
      auto t0=std::chrono::steady_clock::now();
      std::vector<std::thread> v; std::vector<unsigned long long> r(th);
      for (int t=0;t<th;++t) v.emplace_back([&,t]{ r[t]=rs(p+B/th*t,B/th); });
      for (auto& x:v) x.join();
      auto t1=std::chrono::steady_clock::now(); for (auto x:r) sink+=x;
      ts.push_back(std::chrono::duration<double>(t1-t0).count());
    }
    std::sort(ts.begin(),ts.end()); printf("threads=%d read %.1f GB/s (median of 7, 512 MiB)\n", th, B/ts[3]/1e9);
  }
}
