// Each activation as a pair: forward, a = act(z), beside backward, dz = act'(z) da, for one sample
// of m values, following PyTorch's definitions and its conventions at the kinks. alpha is the
// activation's parameter (unused by most). pair_of, at the end, maps ir::Activation to the pair;
// its switch has no default, so a new activation fails to compile (-Werror=switch) until it is
// written out here: a struct and a line.
#include "reference/activations.hpp"

#include <algorithm>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace castnet::interp {
namespace {

struct Identity {
  template <class T>
  static void forward(T, const T* z, std::size_t m, T* a) {
    for (std::size_t i = 0; i < m; i++) a[i] = z[i];
  }
  // a' = 1
  template <class T>
  static void backward(T, const T*, const T*, const T* da, std::size_t m, T* dz) {
    for (std::size_t i = 0; i < m; i++) dz[i] = da[i];
  }
};

struct Relu {
  template <class T>
  static void forward(T, const T* z, std::size_t m, T* a) {
    for (std::size_t i = 0; i < m; i++) a[i] = z[i] > T(0) ? z[i] : T(0);
  }
  // a' = 1 if z > 0 else 0; torch takes relu'(0) = 0.
  template <class T>
  static void backward(T, const T* z, const T*, const T* da, std::size_t m, T* dz) {
    for (std::size_t i = 0; i < m; i++) dz[i] = z[i] > T(0) ? da[i] : T(0);
  }
};

struct LeakyRelu {
  template <class T>
  static void forward(T alpha, const T* z, std::size_t m, T* a) {
    for (std::size_t i = 0; i < m; i++) a[i] = z[i] > T(0) ? z[i] : alpha * z[i];
  }
  // a' = 1 if z > 0 else alpha; torch takes the slope alpha at z = 0.
  template <class T>
  static void backward(T alpha, const T* z, const T*, const T* da, std::size_t m, T* dz) {
    for (std::size_t i = 0; i < m; i++) dz[i] = z[i] > T(0) ? da[i] : alpha * da[i];
  }
};

struct Elu {
  template <class T>
  static void forward(T alpha, const T* z, std::size_t m, T* a) {
    for (std::size_t i = 0; i < m; i++) a[i] = z[i] > T(0) ? z[i] : alpha * (std::exp(z[i]) - T(1));
  }
  // a' = 1 if z > 0 else alpha e^z; torch takes alpha e^0 = alpha at z = 0.
  template <class T>
  static void backward(T alpha, const T* z, const T*, const T* da, std::size_t m, T* dz) {
    for (std::size_t i = 0; i < m; i++) dz[i] = z[i] > T(0) ? da[i] : alpha * std::exp(z[i]) * da[i];
  }
};

struct Gelu {
  // The exact form, z * Phi(z) with Phi the standard normal CDF (torch's approximate="none").
  template <class T>
  static void forward(T, const T* z, std::size_t m, T* a) {
    const T inv_sqrt2 = T(1) / std::sqrt(T(2));
    for (std::size_t i = 0; i < m; i++) a[i] = z[i] * T(0.5) * (T(1) + std::erf(z[i] * inv_sqrt2));
  }
  // a = z Phi(z)  =>  a' = Phi(z) + z phi(z), phi(z) = e^(-z^2/2) / sqrt(2 pi).
  template <class T>
  static void backward(T, const T* z, const T*, const T* da, std::size_t m, T* dz) {
    const T inv_sqrt2 = T(1) / std::sqrt(T(2));
    const T inv_sqrt_2pi = T(1) / std::sqrt(T(2) * std::numbers::pi_v<T>);
    for (std::size_t i = 0; i < m; i++) {
      const T cdf = T(0.5) * (T(1) + std::erf(z[i] * inv_sqrt2));
      const T pdf = std::exp(T(-0.5) * z[i] * z[i]) * inv_sqrt_2pi;
      dz[i] = (cdf + z[i] * pdf) * da[i];
    }
  }
};

struct Silu {
  template <class T>
  static void forward(T, const T* z, std::size_t m, T* a) {
    for (std::size_t i = 0; i < m; i++) a[i] = z[i] * sigmoid(z[i]);
  }
  // a = z s(z) with s the sigmoid, s' = s(1 - s)  =>  a' = s(z) (1 + z (1 - s(z))).
  template <class T>
  static void backward(T, const T* z, const T*, const T* da, std::size_t m, T* dz) {
    for (std::size_t i = 0; i < m; i++) {
      const T s = sigmoid(z[i]);
      dz[i] = s * (T(1) + z[i] * (T(1) - s)) * da[i];
    }
  }
};

struct Tanh {
  template <class T>
  static void forward(T, const T* z, std::size_t m, T* a) {
    for (std::size_t i = 0; i < m; i++) a[i] = std::tanh(z[i]);
  }
  // a' = 1 - tanh(z)^2 = 1 - a^2
  template <class T>
  static void backward(T, const T*, const T* a, const T* da, std::size_t m, T* dz) {
    for (std::size_t i = 0; i < m; i++) dz[i] = (T(1) - a[i] * a[i]) * da[i];
  }
};

struct Sigmoid {
  template <class T>
  static void forward(T, const T* z, std::size_t m, T* a) {
    for (std::size_t i = 0; i < m; i++) a[i] = sigmoid(z[i]);
  }
  // a' = s(z) (1 - s(z)) = a (1 - a)
  template <class T>
  static void backward(T, const T*, const T* a, const T* da, std::size_t m, T* dz) {
    for (std::size_t i = 0; i < m; i++) dz[i] = a[i] * (T(1) - a[i]) * da[i];
  }
};

struct Softplus {
  // a = log(1 + e^(beta z)) / beta. torch's threshold: where beta*z > 20, softplus(z) is z to
  // working precision and the log1p(exp) form would overflow for large z, so it returns z itself.
  template <class T>
  static void forward(T beta, const T* z, std::size_t m, T* a) {
    for (std::size_t i = 0; i < m; i++) a[i] = beta * z[i] > T(20) ? z[i] : std::log1p(std::exp(beta * z[i])) / beta;
  }
  // a' = sigmoid(beta z); past the threshold a = z, a' = 1.
  template <class T>
  static void backward(T beta, const T* z, const T*, const T* da, std::size_t m, T* dz) {
    for (std::size_t i = 0; i < m; i++) dz[i] = beta * z[i] > T(20) ? da[i] : sigmoid(beta * z[i]) * da[i];
  }
};

struct Softmax {
  // Over the sample's m features; subtracting the max keeps every exp <= 1.
  template <class T>
  static void forward(T, const T* z, std::size_t m, T* a) {
    T zmax = -std::numeric_limits<T>::infinity();
    for (std::size_t i = 0; i < m; i++) zmax = std::max(zmax, z[i]);
    T sum = 0;
    for (std::size_t i = 0; i < m; i++) {
      a[i] = std::exp(z[i] - zmax);
      sum += a[i];
    }
    for (std::size_t i = 0; i < m; i++) a[i] /= sum;
  }
  // da_j/dz_i = a_j ([i == j] - a_i)  =>  dz_i = a_i (da_i - sum_j a_j da_j).
  template <class T>
  static void backward(T, const T*, const T* a, const T* da, std::size_t m, T* dz) {
    T dot = 0;
    for (std::size_t j = 0; j < m; j++) dot += a[j] * da[j];
    for (std::size_t i = 0; i < m; i++) dz[i] = a[i] * (da[i] - dot);
  }
};

// An activation's pair of functions, for one real type.
template <class T>
struct Pair {
  void (*forward)(T alpha, const T* z, std::size_t m, T* a);
  void (*backward)(T alpha, const T* z, const T* a, const T* da, std::size_t m, T* dz);
};

template <class A, class T>
Pair<T> pair() {
  return {A::template forward<T>, A::template backward<T>};
}

template <class T>
Pair<T> pair_of(ir::Activation kind) {
  switch (kind) {
    case ir::Activation::identity: return pair<Identity, T>();
    case ir::Activation::relu: return pair<Relu, T>();
    case ir::Activation::leaky_relu: return pair<LeakyRelu, T>();
    case ir::Activation::elu: return pair<Elu, T>();
    case ir::Activation::gelu: return pair<Gelu, T>();
    case ir::Activation::silu: return pair<Silu, T>();
    case ir::Activation::tanh: return pair<Tanh, T>();
    case ir::Activation::sigmoid: return pair<Sigmoid, T>();
    case ir::Activation::softplus: return pair<Softplus, T>();
    case ir::Activation::softmax: return pair<Softmax, T>();
  }
  throw std::logic_error("interpreter: unknown activation");
}

}  // namespace

template <class T>
void activate(const ir::ActivationSpec& act, const T* z, std::size_t m, T* a) {
  pair_of<T>(act.kind).forward(static_cast<T>(act.alpha), z, m, a);
}

template <class T>
void activate_backward(const ir::ActivationSpec& act, const T* z, const T* a, const T* da, std::size_t m, T* dz) {
  pair_of<T>(act.kind).backward(static_cast<T>(act.alpha), z, a, da, m, dz);
}

template void activate(const ir::ActivationSpec&, const float*, std::size_t, float*);
template void activate(const ir::ActivationSpec&, const double*, std::size_t, double*);
template void activate_backward(const ir::ActivationSpec&, const float*, const float*, const float*, std::size_t,
                                float*);
template void activate_backward(const ir::ActivationSpec&, const double*, const double*, const double*, std::size_t,
                                double*);

}  // namespace castnet::interp
