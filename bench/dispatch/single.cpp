// One instruction set's W1 and W2 (castnet_add_model(... ARCH <isa>)), behind plain functions: the
// single-instruction-set builds the dispatch benchmark (dispatch_bench.cpp) holds the dispatching
// ones against. Compiled once per instruction set with its flags (bench/CMakeLists.txt), so the
// forward() calls of the timed loop are inlined here, as in a program built for one CPU.
#include CASTNET_DISPATCH_W1
#include CASTNET_DISPATCH_W2

#include <cstddef>
#include <memory>

#include "dispatch/single.hpp"

#define CASTNET_DISPATCH_CAT_(a, b) a##b
#define CASTNET_DISPATCH_CAT(a, b) CASTNET_DISPATCH_CAT_(a, b)

namespace {

template <class M>
struct Net {
  std::unique_ptr<typename M::Params> params = std::make_unique<typename M::Params>();

  void set(const float* flat) {
    const auto t = M::tensors(*params);
    for (std::size_t i = 0, at = 0; i < t.size(); at += M::kTensors[i].size, ++i)
      for (std::size_t k = 0; k < M::kTensors[i].size; ++k) t[i][k] = flat[at + k];
  }
  // n dependent calls: each input's first value is the last call's first output.
  void loop(float* x, float* y, std::size_t n) const {
    for (std::size_t i = 0; i < n; ++i) {
      M::forward(*params, x, y);
      x[0] = y[0];
    }
  }
};

Net<CASTNET_DISPATCH_CAT(w1_, CASTNET_DISPATCH_ISA)::Model> w1;
Net<CASTNET_DISPATCH_CAT(w2_, CASTNET_DISPATCH_ISA)::Model> w2;

}  // namespace

SingleIsa CASTNET_DISPATCH_CAT(single_, CASTNET_DISPATCH_ISA)() {
  return {[](const float* flat) { w1.set(flat); }, [](float* x, float* y, std::size_t n) { w1.loop(x, y, n); },
          [](const float* flat) { w2.set(flat); }, [](float* x, float* y, std::size_t n) { w2.loop(x, y, n); }};
}
