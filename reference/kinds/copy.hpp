// z = x and its backward, for the kinds whose formula leaves the values as they are: a standalone
// activation (the interpreter applies it to z) and flatten (only the shape changes).
#pragma once

#include <algorithm>
#include <cstddef>

#include "reference/kind.hpp"

namespace castnet::interp {

// z = x
template <class T>
void copy_forward(const Forward<T>& p) {
  std::copy(p.in[0], p.in[0] + p.n * p.m_in, p.z);
}

// z = x  =>  dx = dz
template <class T>
void copy_backward(const Backward<T>& p) {
  for (std::size_t i = 0; i < p.n * p.m_in; i++) p.gin[0][i] += p.dz[i];
}

}  // namespace castnet::interp
