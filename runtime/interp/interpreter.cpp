// The reference interpreter's arithmetic, written llm.c style: one plain loop nest per formula, one
// sample at a time, every size read from the IR at run time. Each activation and loss follows
// PyTorch's definition, and the math of its derivative is written once, beside the backward code.
// Switches over the IR's enums have no default, so a new layer kind, activation or loss fails to
// compile (-Werror=switch) until it is written out here too.
#include "interpreter.hpp"

#include <castnet/rng.hpp>  // what a dropout mask is (a definition, not math under test)

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace castnet::interp {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("interpreter: " + what);
}

// 1 / (1 + e^-z), split by sign so that exp never overflows.
template <class T>
T sigmoid(T z) {
  if (z >= T(0)) return T(1) / (T(1) + std::exp(-z));
  const T e = std::exp(z);
  return e / (T(1) + e);
}

// a = act(z) for one sample of m features. act.alpha is the activation's parameter as the passes
// filled it (leaky_relu slope, elu alpha, softplus beta).
template <class T>
void activate(const ir::ActivationSpec& act, const T* z, std::size_t m, T* a) {
  const T alpha = static_cast<T>(act.alpha);
  switch (act.kind) {
    case ir::Activation::identity:
      for (std::size_t i = 0; i < m; i++) a[i] = z[i];
      return;
    case ir::Activation::relu:
      for (std::size_t i = 0; i < m; i++) a[i] = z[i] > T(0) ? z[i] : T(0);
      return;
    case ir::Activation::leaky_relu:
      for (std::size_t i = 0; i < m; i++) a[i] = z[i] > T(0) ? z[i] : alpha * z[i];
      return;
    case ir::Activation::elu:
      for (std::size_t i = 0; i < m; i++) a[i] = z[i] > T(0) ? z[i] : alpha * (std::exp(z[i]) - T(1));
      return;
    case ir::Activation::gelu: {
      // The exact form, z * Phi(z) with Phi the standard normal CDF (torch's approximate="none").
      const T inv_sqrt2 = T(1) / std::sqrt(T(2));
      for (std::size_t i = 0; i < m; i++) a[i] = z[i] * T(0.5) * (T(1) + std::erf(z[i] * inv_sqrt2));
      return;
    }
    case ir::Activation::silu:
      for (std::size_t i = 0; i < m; i++) a[i] = z[i] * sigmoid(z[i]);
      return;
    case ir::Activation::tanh:
      for (std::size_t i = 0; i < m; i++) a[i] = std::tanh(z[i]);
      return;
    case ir::Activation::sigmoid:
      for (std::size_t i = 0; i < m; i++) a[i] = sigmoid(z[i]);
      return;
    case ir::Activation::softplus:
      // torch's threshold: where beta*z > 20, softplus(z) is z to working precision and the
      // log1p(exp) form would overflow for large z, so it returns z itself.
      for (std::size_t i = 0; i < m; i++)
        a[i] = alpha * z[i] > T(20) ? z[i] : std::log1p(std::exp(alpha * z[i])) / alpha;
      return;
    case ir::Activation::softmax: {
      // Over the sample's m features; subtracting the max keeps every exp <= 1.
      T zmax = -std::numeric_limits<T>::infinity();
      for (std::size_t i = 0; i < m; i++) zmax = std::max(zmax, z[i]);
      T sum = 0;
      for (std::size_t i = 0; i < m; i++) {
        a[i] = std::exp(z[i] - zmax);
        sum += a[i];
      }
      for (std::size_t i = 0; i < m; i++) a[i] /= sum;
      return;
    }
  }
}

// dz = dLoss/dz from da = dLoss/da for one sample, given the forward's z and a = act(z).
template <class T>
void activate_backward(const ir::ActivationSpec& act, const T* z, const T* a, const T* da, std::size_t m,
                       T* dz) {
  const T alpha = static_cast<T>(act.alpha);
  switch (act.kind) {
    case ir::Activation::identity:
      // a' = 1
      for (std::size_t i = 0; i < m; i++) dz[i] = da[i];
      return;
    case ir::Activation::relu:
      // a' = 1 if z > 0 else 0; torch takes relu'(0) = 0.
      for (std::size_t i = 0; i < m; i++) dz[i] = z[i] > T(0) ? da[i] : T(0);
      return;
    case ir::Activation::leaky_relu:
      // a' = 1 if z > 0 else alpha; torch takes the slope alpha at z = 0.
      for (std::size_t i = 0; i < m; i++) dz[i] = z[i] > T(0) ? da[i] : alpha * da[i];
      return;
    case ir::Activation::elu:
      // a' = 1 if z > 0 else alpha e^z; torch takes alpha e^0 = alpha at z = 0.
      for (std::size_t i = 0; i < m; i++) dz[i] = z[i] > T(0) ? da[i] : alpha * std::exp(z[i]) * da[i];
      return;
    case ir::Activation::gelu: {
      // a = z Phi(z)  =>  a' = Phi(z) + z phi(z), phi(z) = e^(-z^2/2) / sqrt(2 pi).
      const T inv_sqrt2 = T(1) / std::sqrt(T(2));
      const T inv_sqrt_2pi = T(1) / std::sqrt(T(2) * std::numbers::pi_v<T>);
      for (std::size_t i = 0; i < m; i++) {
        const T cdf = T(0.5) * (T(1) + std::erf(z[i] * inv_sqrt2));
        const T pdf = std::exp(T(-0.5) * z[i] * z[i]) * inv_sqrt_2pi;
        dz[i] = (cdf + z[i] * pdf) * da[i];
      }
      return;
    }
    case ir::Activation::silu:
      // a = z s(z) with s the sigmoid, s' = s(1 - s)  =>  a' = s(z) (1 + z (1 - s(z))).
      for (std::size_t i = 0; i < m; i++) {
        const T s = sigmoid(z[i]);
        dz[i] = s * (T(1) + z[i] * (T(1) - s)) * da[i];
      }
      return;
    case ir::Activation::tanh:
      // a' = 1 - tanh(z)^2 = 1 - a^2
      for (std::size_t i = 0; i < m; i++) dz[i] = (T(1) - a[i] * a[i]) * da[i];
      return;
    case ir::Activation::sigmoid:
      // a' = s(z) (1 - s(z)) = a (1 - a)
      for (std::size_t i = 0; i < m; i++) dz[i] = a[i] * (T(1) - a[i]) * da[i];
      return;
    case ir::Activation::softplus:
      // a = log(1 + e^(beta z)) / beta  =>  a' = sigmoid(beta z); past the threshold a = z, a' = 1.
      for (std::size_t i = 0; i < m; i++) dz[i] = alpha * z[i] > T(20) ? da[i] : sigmoid(alpha * z[i]) * da[i];
      return;
    case ir::Activation::softmax: {
      // da_j/dz_i = a_j ([i == j] - a_i)  =>  dz_i = a_i (da_i - sum_j a_j da_j).
      T dot = 0;
      for (std::size_t j = 0; j < m; j++) dot += a[j] * da[j];
      for (std::size_t i = 0; i < m; i++) dz[i] = a[i] * (da[i] - dot);
      return;
    }
  }
}

}  // namespace

template <class T>
Interpreter<T>::Interpreter(const ir::Graph& g) : graph_(g) {
  // The passes guarantee these; checking them here keeps a malformed hand-built graph from turning
  // into out-of-bounds reads in the reference everything else is judged by.
  std::size_t features = graph_.input_features();
  for (const auto& layer : graph_.layers) {
    require(layer.in_features == features, "layer '" + layer.name + "' reads " +
                                               std::to_string(layer.in_features) + " features but receives " +
                                               std::to_string(features));
    for (const auto& p : layer.params) {
      std::size_t size = 1;
      for (auto d : p.shape) size *= d;
      require(p.size == size, "tensor '" + p.torch_name + "' has size " + std::to_string(p.size) +
                                  " but its shape holds " + std::to_string(size));
    }
    const std::size_t in = layer.in_features, out = layer.out_features;
    switch (layer.kind) {
      case ir::OpKind::dense:
        require(layer.params.size() == 2 && layer.params[0].shape == std::vector<std::size_t>{out, in} &&
                    layer.params[1].shape == std::vector<std::size_t>{out},
                "dense layer '" + layer.name + "' needs a weight [out, in] and a bias [out]");
        break;
      case ir::OpKind::activation:
        require(layer.params.empty() && in == out,
                "activation layer '" + layer.name + "' must have no params and as many outputs as inputs");
        break;
      case ir::OpKind::dropout:
        require(layer.params.empty() && in == out && layer.rate >= 0 && layer.rate < 1,
                "dropout layer '" + layer.name + "' must have no params, as many outputs as inputs and a rate in [0, 1)");
        break;
    }
    first_param_.push_back(params_.size());
    for (const auto& p : layer.params) params_.emplace_back(p.size, T(0));
    features = out;
  }
}

template <class T>
typename Interpreter<T>::Trace Interpreter<T>::run(const T* x, std::size_t n,
                                                  std::optional<std::uint64_t> dropout_key) const {
  Trace trace;
  const T* in = x;
  for (std::size_t k = 0; k < graph_.layers.size(); k++) {
    const auto& layer = graph_.layers[k];
    const std::size_t m_in = layer.in_features, m_out = layer.out_features;
    std::vector<T>& z = trace.z.emplace_back(n * m_out);
    std::vector<T>& a = trace.a.emplace_back(n * m_out);
    std::vector<T>& mask = trace.mask.emplace_back();
    if (layer.kind == ir::OpKind::dropout) {
      // Inverted dropout: keep each value with probability 1 - rate and scale it by 1 / (1 - rate).
      std::copy(in, in + n * m_in, z.begin());
      mask.assign(n * m_out, T(1));
      if (dropout_key) {
        const std::uint64_t base = rng::dropout_base(*dropout_key, k);
        const std::uint32_t threshold = rng::dropout_threshold(layer.rate);
        const T scale = static_cast<T>(1.0 / (1.0 - layer.rate));
        for (std::size_t i = 0; i < n * m_out; i++) mask[i] = rng::dropout_keep(base, i, threshold) ? scale : T(0);
      }
      for (std::size_t i = 0; i < n * m_out; i++) a[i] = z[i] * mask[i];
      in = a.data();
      continue;
    }
    switch (layer.kind) {
      case ir::OpKind::dense: {
        // z = x W^T + b
        const std::vector<T>& w = params_[first_param_[k]];
        const std::vector<T>& b = params_[first_param_[k] + 1];
        for (std::size_t s = 0; s < n; s++)
          for (std::size_t o = 0; o < m_out; o++) {
            T sum = b[o];
            for (std::size_t i = 0; i < m_in; i++) sum += w[o * m_in + i] * in[s * m_in + i];
            z[s * m_out + o] = sum;
          }
        break;
      }
      case ir::OpKind::activation:
        std::copy(in, in + n * m_in, z.begin());
        break;
      case ir::OpKind::dropout:
        break;  // above
    }
    for (std::size_t s = 0; s < n; s++) activate(layer.activation, &z[s * m_out], m_out, &a[s * m_out]);
    in = a.data();
  }
  return trace;
}

template <class T>
void Interpreter<T>::forward(const T* x, std::size_t n, T* y) const {
  const Trace trace = run(x, n, std::nullopt);
  const T* out = trace.a.empty() ? x : trace.a.back().data();
  std::copy(out, out + n * graph_.output_features(), y);
}

template <class T>
T Interpreter<T>::loss_of(const T* y, const T* target, std::size_t n, T* dy) const {
  require(n > 0, "a loss needs at least one sample");
  const std::size_t m = graph_.output_features();
  switch (graph_.loss.kind) {
    case ir::LossKind::mse: {
      // nn.MSELoss: L = sum (y - t)^2 / (n m)  =>  dL/dy = 2 (y - t) / (n m).
      const T count = static_cast<T>(n * m);
      T sum = 0;
      for (std::size_t i = 0; i < n * m; i++) {
        const T d = y[i] - target[i];
        sum += d * d;
        if (dy) dy[i] = T(2) * d / count;
      }
      return sum / count;
    }
    case ir::LossKind::binary_cross_entropy: {
      // nn.BCEWithLogitsLoss on logits y: per element l = -t log s(y) - (1 - t) log(1 - s(y))
      // = log(1 + e^y) - t y, written max(y, 0) - t y + log1p(e^-|y|) so no exp overflows.
      // dl/dy = s(y) - t; the mean is over all n m elements.
      const T count = static_cast<T>(n * m);
      T sum = 0;
      for (std::size_t i = 0; i < n * m; i++) {
        sum += std::max(y[i], T(0)) - target[i] * y[i] + std::log1p(std::exp(-std::abs(y[i])));
        if (dy) dy[i] = (sigmoid(y[i]) - target[i]) / count;
      }
      return sum / count;
    }
    case ir::LossKind::softmax_cross_entropy: {
      // nn.CrossEntropyLoss on logits y with class c: per sample l = logsumexp(y) - y_c, the max
      // subtracted inside logsumexp.  dl/dy_j = softmax(y)_j - [j == c]; the mean is over n samples.
      T sum = 0;
      for (std::size_t s = 0; s < n; s++) {
        const T* row = y + s * m;
        const T c = target[s];
        require(c >= T(0) && c < static_cast<T>(m) && c == std::floor(c),
                "sample " + std::to_string(s) + ": class index " + std::to_string(c) + " is not one of 0.." +
                    std::to_string(m - 1));
        const auto cls = static_cast<std::size_t>(c);
        T ymax = -std::numeric_limits<T>::infinity();
        for (std::size_t j = 0; j < m; j++) ymax = std::max(ymax, row[j]);
        T sumexp = 0;
        for (std::size_t j = 0; j < m; j++) sumexp += std::exp(row[j] - ymax);
        sum += ymax + std::log(sumexp) - row[cls];
        if (dy)
          for (std::size_t j = 0; j < m; j++)
            dy[s * m + j] = (std::exp(row[j] - ymax) / sumexp - (j == cls ? T(1) : T(0))) / static_cast<T>(n);
      }
      return sum / static_cast<T>(n);
    }
  }
  throw std::logic_error("interpreter: unknown loss kind");
}

template <class T>
void Interpreter<T>::backprop(const Trace& trace, const T* x, const T* dy, std::size_t n,
                              std::vector<std::vector<T>>& grads, T* dx) const {
  grads.resize(params_.size());
  for (std::size_t p = 0; p < params_.size(); p++) grads[p].assign(params_[p].size(), T(0));
  // g holds dLoss/d(output of the current layer), walking from the last layer to the first.
  std::vector<T> g(dy, dy + n * graph_.output_features());
  for (std::size_t k = graph_.layers.size(); k-- > 0;) {
    const auto& layer = graph_.layers[k];
    const std::size_t m_in = layer.in_features, m_out = layer.out_features;
    const T* in = k == 0 ? x : trace.a[k - 1].data();
    if (layer.kind == ir::OpKind::dropout) {
      // a = z * mask  =>  dz = da * mask
      for (std::size_t i = 0; i < n * m_out; i++) g[i] *= trace.mask[k][i];
      continue;
    }
    std::vector<T> dz(n * m_out);
    for (std::size_t s = 0; s < n; s++)
      activate_backward(layer.activation, &trace.z[k][s * m_out], &trace.a[k][s * m_out], &g[s * m_out], m_out,
                        &dz[s * m_out]);
    std::vector<T> g_in(n * m_in, T(0));
    switch (layer.kind) {
      case ir::OpKind::dense: {
        // z = x W^T + b  =>  dW = dz^T x, db = sum over samples of dz, dx = dz W.
        const std::vector<T>& w = params_[first_param_[k]];
        std::vector<T>& dw = grads[first_param_[k]];
        std::vector<T>& db = grads[first_param_[k] + 1];
        for (std::size_t s = 0; s < n; s++)
          for (std::size_t o = 0; o < m_out; o++) {
            const T d = dz[s * m_out + o];
            db[o] += d;
            for (std::size_t i = 0; i < m_in; i++) {
              dw[o * m_in + i] += d * in[s * m_in + i];
              g_in[s * m_in + i] += d * w[o * m_in + i];
            }
          }
        break;
      }
      case ir::OpKind::activation:
        g_in = dz;
        break;
      case ir::OpKind::dropout:
        break;  // above
    }
    g = std::move(g_in);
  }
  if (dx) std::copy(g.begin(), g.end(), dx);
}

template <class T>
T Interpreter<T>::loss(const T* x, const T* target, std::size_t n) const {
  const Trace trace = run(x, n, std::nullopt);
  return loss_of(trace.a.empty() ? x : trace.a.back().data(), target, n, nullptr);
}

template <class T>
T Interpreter<T>::loss_and_grad(const T* x, const T* target, std::size_t n, std::vector<std::vector<T>>& grads,
                                T* dx, std::optional<std::uint64_t> dropout_key) const {
  const Trace trace = run(x, n, dropout_key);
  std::vector<T> dy(n * graph_.output_features());
  const T value = loss_of(trace.a.empty() ? x : trace.a.back().data(), target, n, dy.data());
  backprop(trace, x, dy.data(), n, grads, dx);
  return value;
}

template <class T>
void Interpreter<T>::backward(const T* x, const T* dy, std::size_t n, std::vector<std::vector<T>>& grads,
                              T* dx, std::optional<std::uint64_t> dropout_key) const {
  backprop(run(x, n, dropout_key), x, dy, n, grads, dx);
}

template class Interpreter<float>;
template class Interpreter<double>;

}  // namespace castnet::interp
