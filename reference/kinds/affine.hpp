// h = x W^T + b for one sample, and its backward: dense's formula, and glu's before the gating.
#pragma once

#include <cstddef>
#include <vector>

namespace castnet::interp {

// h[o] = b[o] + sum_i W[o][i] x[i], W (m_out, m_in) row-major as torch stores it.
template <class T>
void affine_forward(const std::vector<T>& w, const std::vector<T>& b, const T* x, std::size_t m_in,
                    std::size_t m_out, T* h) {
  for (std::size_t o = 0; o < m_out; o++) {
    T sum = b[o];
    for (std::size_t i = 0; i < m_in; i++) sum += w[o * m_in + i] * x[i];
    h[o] = sum;
  }
}

// h = x W^T + b  =>  dW += dh^T x, db += dh, dx += dh W (one sample's share of each).
template <class T>
void affine_backward(const std::vector<T>& w, const T* x, const T* dh, std::size_t m_in, std::size_t m_out,
                     std::vector<T>& dw, std::vector<T>& db, T* dx) {
  for (std::size_t o = 0; o < m_out; o++) {
    const T d = dh[o];
    db[o] += d;
    for (std::size_t i = 0; i < m_in; i++) {
      dw[o * m_in + i] += d * x[i];
      dx[i] += d * w[o * m_in + i];
    }
  }
}

}  // namespace castnet::interp
