// The shared-symbol check's own test (isa_link_test.cpp): compiled twice, for two instruction sets,
// into two objects that are never linked. probe_sum lies deliberately outside castnet's per-ISA
// namespace, so both objects define the same weak symbol, which the check must report; losses::mse
// lies inside it, so its two instantiations must not be reported.
#include <castnet/kernels/losses.hpp>

#include <cstddef>

namespace castnet {

template <class T>
T probe_sum(const T* x, std::size_t n) noexcept {
  T s = 0;
  for (std::size_t i = 0; i < n; ++i) s += x[i];
  return s;
}

template float probe_sum<float>(const float*, std::size_t) noexcept;
template float losses::mse<float, 4, 2>(const float*, const float*, float*, std::size_t) noexcept;

}  // namespace castnet
