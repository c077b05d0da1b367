// The reference interpreter's arithmetic, written llm.c style: one plain loop nest per formula, one
// sample at a time, every size read from the IR at run time. Each loss follows PyTorch's
// definition, and the math of its derivative is written once, beside the backward code (the
// activations likewise, in activations.cpp). Switches over the IR's enums have no default, so a
// new layer kind or loss fails to compile (-Werror=switch) until it is written out here too.
#include "reference/interpreter.hpp"

#include <castnet/rng.hpp>  // what a dropout mask is (a definition, not math under test)

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "reference/activations.hpp"

namespace castnet::interp {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("interpreter: " + what);
}

// Whether the layer's param tensors are exactly these shapes, in this order.
bool params_are(const ir::Layer& layer, const std::vector<ir::Shape>& shapes) {
  if (layer.params.size() != shapes.size()) return false;
  for (std::size_t i = 0; i < shapes.size(); i++)
    if (layer.params[i].shape != shapes[i]) return false;
  return true;
}

// How many inputs a kind reads: [min, max].
std::pair<std::size_t, std::size_t> arity(ir::OpKind kind) {
  constexpr std::size_t any = std::numeric_limits<std::size_t>::max();
  switch (kind) {
    case ir::OpKind::dense:
    case ir::OpKind::activation:
    case ir::OpKind::dropout:
    case ir::OpKind::conv2d:
    case ir::OpKind::maxpool2d:
    case ir::OpKind::avgpool2d:
    case ir::OpKind::flatten:
    case ir::OpKind::glu:
    case ir::OpKind::prelu:
      return {1, 1};
    case ir::OpKind::add:
      return {2, any};
    case ir::OpKind::concat:
      return {1, any};
  }
  return {1, 1};
}

// The geometry of a sliding window (conv2d, maxpool2d, avgpool2d) over an input [C, H, W]: kernel
// (KH, KW), stride (SH, SW), zero padding (PH, PW) on each side (0 for the pools), and the output's
// OH = (H + 2 PH - KH) / SH + 1, OW = (W + 2 PW - KW) / SW + 1 (floor). The constructor has checked
// that the stride is at least 1 and the kernel fits the padded input.
struct Window {
  std::size_t c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;

  Window(const ir::Layer& layer, const ir::Shape& in)
      : c(in[0]), h(in[1]), w(in[2]), kh(layer.kernel[0]), kw(layer.kernel[1]), sh(layer.stride[0]),
        sw(layer.stride[1]), ph(layer.padding[0]), pw(layer.padding[1]), oh((h + 2 * ph - kh) / sh + 1),
        ow((w + 2 * pw - kw) / sw + 1) {}

  // The input row that window row ky of output row oy reads, oy SH - PH + ky; false if that row
  // lies in the padding. Likewise for columns.
  bool row(std::size_t oy, std::size_t ky, std::size_t& iy) const { return inside(oy * sh + ky, ph, h, iy); }
  bool col(std::size_t ox, std::size_t kx, std::size_t& ix) const { return inside(ox * sw + kx, pw, w, ix); }

 private:
  // p is a position in the padded input; the unpadded one is p - pad if that is in [0, size).
  static bool inside(std::size_t p, std::size_t pad, std::size_t size, std::size_t& out) {
    if (p < pad || p - pad >= size) return false;
    out = p - pad;
    return true;
  }
};

// The index in one sample's input [C, H, W] of window (c, oy, ox)'s maximum: the FIRST maximum in
// row-major window order (ky outer, kx inner), as PyTorch's CPU max_pool2d picks it. A later value
// replaces the maximum only if it is strictly greater.
template <class T>
std::size_t window_argmax(const Window& win, const T* x, std::size_t c, std::size_t oy, std::size_t ox) {
  std::size_t best = (c * win.h + oy * win.sh) * win.w + ox * win.sw;
  for (std::size_t ky = 0; ky < win.kh; ky++)
    for (std::size_t kx = 0; kx < win.kw; kx++) {
      const std::size_t i = (c * win.h + oy * win.sh + ky) * win.w + ox * win.sw + kx;
      if (x[i] > x[best]) best = i;
    }
  return best;
}

}  // namespace

template <class T>
Interpreter<T>::Interpreter(const ir::Graph& g) : graph_(g) {
  // The passes guarantee these; checking them here keeps a malformed hand-built graph from turning
  // into out-of-bounds reads in the reference everything else is judged by.
  const ir::Shape input_shape =
      graph_.input_shape.empty() ? ir::Shape{graph_.input_features()} : graph_.input_shape;
  for (std::size_t k = 0; k < graph_.layers.size(); k++) {
    const auto& layer = graph_.layers[k];
    const std::string what = std::string(ir::to_string(layer.kind)) + " layer '" + layer.name + "'";
    const std::size_t in = layer.in_features, out = layer.out_features;

    // Inputs: an empty list means the previous layer (layer 0: the network's input).
    Wiring wire;
    wire.inputs = layer.inputs;
    if (wire.inputs.empty()) wire.inputs.push_back(k == 0 ? ir::kGraphInput : k - 1);
    const auto [min_inputs, max_inputs] = arity(layer.kind);
    require(wire.inputs.size() >= min_inputs && wire.inputs.size() <= max_inputs,
            what + " reads " + std::to_string(wire.inputs.size()) + " inputs but needs " +
                (min_inputs == max_inputs ? std::to_string(min_inputs) : "at least " + std::to_string(min_inputs)));
    require(layer.in_shapes.empty() || layer.in_shapes.size() == wire.inputs.size(),
            what + " has " + std::to_string(layer.in_shapes.size()) + " input shapes for " +
                std::to_string(wire.inputs.size()) + " inputs");
    for (std::size_t i = 0; i < wire.inputs.size(); i++) {
      const std::size_t j = wire.inputs[i];
      require(j == ir::kGraphInput || j < k,
              what + " reads layer " + std::to_string(j) + ", which does not come before it");
      const ir::Shape& produced = j == ir::kGraphInput ? input_shape : wiring_[j].out_shape;
      const std::string source = j == ir::kGraphInput ? "the network input" : "layer '" + graph_.layers[j].name + "'";
      const std::size_t size = ir::elements(produced);
      // A layer sees its input as the shape it declares: the producer's, or a flat view of it.
      ir::Shape shape = layer.in_shapes.empty() ? ir::Shape{size} : layer.in_shapes[i];
      require(shape == produced || (shape.size() == 1 && shape[0] == size),
              what + " reads " + ir::shape_text(shape) + " from " + source + ", which gives " + ir::shape_text(produced));
      wire.in_shapes.push_back(std::move(shape));
      wire.in_sizes.push_back(size);
    }
    std::size_t received = 0;
    for (auto s : wire.in_sizes) received += s;
    if (layer.kind == ir::OpKind::add) {
      for (std::size_t i = 0; i < wire.inputs.size(); i++)
        require(wire.in_sizes[i] == in && wire.in_shapes[i] == wire.in_shapes[0],
                what + " adds inputs of different shapes (" + ir::shape_text(wire.in_shapes[0]) + " and " +
                    ir::shape_text(wire.in_shapes[i]) + ") or not of its " + std::to_string(in) + " features");
    } else {
      // concat reads the sum of its inputs' sizes, every other kind its single input's.
      require(received == in, "layer '" + layer.name + "' reads " + std::to_string(in) + " features but receives " +
                                  std::to_string(received));
    }
    wire.out_shape = layer.out_shape.empty() ? ir::Shape{out} : layer.out_shape;
    require(ir::elements(wire.out_shape) == out, what + " has out_shape " + ir::shape_text(wire.out_shape) +
                                                     " but " + std::to_string(out) + " out_features");
    for (const auto& p : layer.params) {
      std::size_t size = 1;
      for (auto d : p.shape) size *= d;
      require(p.size == size, "tensor '" + p.torch_name + "' has size " + std::to_string(p.size) +
                                  " but its shape holds " + std::to_string(size));
    }
    // The output shape a kind's formula gives: an explicit out_shape must be it, an empty one must
    // hold as many values.
    auto expect_out = [&](const ir::Shape& expected) {
      require(layer.out_shape.empty() ? out == ir::elements(expected) : layer.out_shape == expected,
              what + " outputs " + ir::shape_text(wire.out_shape) + " but its formula gives " + ir::shape_text(expected));
    };
    const ir::Shape& s0 = wire.in_shapes[0];
    switch (layer.kind) {
      case ir::OpKind::dense:
        require(params_are(layer, {{out, in}, {out}}),
                "dense layer '" + layer.name + "' needs a weight [out, in] = " + ir::shape_text({out, in}) +
                    " and a bias [out] = " + ir::shape_text({out}));
        break;
      case ir::OpKind::activation:
        require(layer.params.empty() && in == out,
                "activation layer '" + layer.name + "' must have no params and as many outputs as inputs");
        break;
      case ir::OpKind::dropout:
        require(layer.params.empty() && in == out && layer.rate >= 0 && layer.rate < 1,
                "dropout layer '" + layer.name + "' must have no params, as many outputs as inputs and a rate in [0, 1)");
        break;
      case ir::OpKind::conv2d:
      case ir::OpKind::maxpool2d:
      case ir::OpKind::avgpool2d: {
        require(s0.size() == 3, what + " needs an input [C, H, W], not " + ir::shape_text(s0));
        require(layer.kernel[0] > 0 && layer.kernel[1] > 0 && layer.stride[0] > 0 && layer.stride[1] > 0,
                what + " needs a kernel and a stride of at least 1");
        require(s0[1] + 2 * layer.padding[0] >= layer.kernel[0] && s0[2] + 2 * layer.padding[1] >= layer.kernel[1],
                what + ": its kernel " + ir::shape_text({layer.kernel[0], layer.kernel[1]}) +
                    " is larger than its padded input " +
                    ir::shape_text({s0[1] + 2 * layer.padding[0], s0[2] + 2 * layer.padding[1]}));
        const Window win(layer, s0);
        if (layer.kind == ir::OpKind::conv2d) {
          const std::size_t f = layer.filters;
          require(f > 0, what + " needs at least one filter");
          require(params_are(layer, {{f, win.c, win.kh, win.kw}, {f}}),
                  what + " needs a weight [F, C, KH, KW] = " + ir::shape_text({f, win.c, win.kh, win.kw}) +
                      " and a bias [F] = " + ir::shape_text({f}));
          expect_out({f, win.oh, win.ow});
        } else {
          require(layer.params.empty() && layer.padding[0] == 0 && layer.padding[1] == 0,
                  what + " must have no params and no padding");
          expect_out({win.c, win.oh, win.ow});
        }
        break;
      }
      case ir::OpKind::flatten:
        require(layer.params.empty(), what + " must have no params");
        expect_out({in});
        break;
      case ir::OpKind::add:
        require(layer.params.empty(), what + " must have no params");
        expect_out(s0);
        break;
      case ir::OpKind::concat: {
        require(layer.params.empty(), what + " must have no params");
        // Inputs [c_i, H, W] concatenate along channels into [sum c_i, H, W]; an explicit
        // [C, H, W] output needs such inputs. Otherwise the output is the values one after another.
        if (layer.out_shape.size() == 3) {
          ir::Shape expected{0, s0.size() == 3 ? s0[1] : 0, s0.size() == 3 ? s0[2] : 0};
          for (const auto& s : wire.in_shapes) {
            require(s.size() == 3 && s[1] == expected[1] && s[2] == expected[2],
                    what + " outputs " + ir::shape_text(layer.out_shape) +
                        " but its inputs are not all [C, H, W] with the same H and W");
            expected[0] += s[0];
          }
          expect_out(expected);
        } else {
          expect_out({in});
        }
        break;
      }
      case ir::OpKind::glu: {
        const std::size_t u = layer.units;
        require(u > 0 && out == u, what + " needs units >= 1 and as many outputs as units");
        require(params_are(layer, {{2 * u, in}, {2 * u}}),
                what + " needs a weight [2U, in] = " + ir::shape_text({2 * u, in}) + " and a bias [2U] = " +
                    ir::shape_text({2 * u}));
        expect_out({u});
        break;
      }
      case ir::OpKind::prelu:
        require(s0.size() == 1 || s0.size() == 3, what + " needs an input [N] or [C, H, W], not " + ir::shape_text(s0));
        require(params_are(layer, {{s0[0]}}), what + " needs a weight [C] = " + ir::shape_text({s0[0]}));
        expect_out(s0);
        break;
    }
    first_param_.push_back(params_.size());
    for (const auto& p : layer.params) params_.emplace_back(p.size, T(0));
    wiring_.push_back(std::move(wire));
  }
}

template <class T>
typename Interpreter<T>::Trace Interpreter<T>::run(const T* x, std::size_t n,
                                                  std::optional<std::uint64_t> dropout_key) const {
  Trace trace;
  const std::size_t layers = graph_.layers.size();
  trace.z.reserve(layers);
  trace.a.reserve(layers);
  trace.mask.reserve(layers);
  trace.h.reserve(layers);
  for (std::size_t k = 0; k < layers; k++) {
    const auto& layer = graph_.layers[k];
    const Wiring& wire = wiring_[k];
    const std::size_t m_in = layer.in_features, m_out = layer.out_features;
    // in[i]: input i for all n samples, (n, wire.in_sizes[i]); a single input is (n, m_in).
    std::vector<const T*> in;
    for (auto j : wire.inputs) in.push_back(j == ir::kGraphInput ? x : trace.a[j].data());
    std::vector<T>& z = trace.z.emplace_back(n * m_out);
    std::vector<T>& a = trace.a.emplace_back(n * m_out);
    std::vector<T>& mask = trace.mask.emplace_back();
    std::vector<T>& h = trace.h.emplace_back();
    switch (layer.kind) {
      case ir::OpKind::dense: {
        // z = x W^T + b
        const std::vector<T>& w = params_[first_param_[k]];
        const std::vector<T>& b = params_[first_param_[k] + 1];
        for (std::size_t s = 0; s < n; s++)
          for (std::size_t o = 0; o < m_out; o++) {
            T sum = b[o];
            for (std::size_t i = 0; i < m_in; i++) sum += w[o * m_in + i] * in[0][s * m_in + i];
            z[s * m_out + o] = sum;
          }
        break;
      }
      case ir::OpKind::activation:
      case ir::OpKind::flatten:
        // flatten: the values are already in [C, H, W] row-major order; only the shape changes.
        std::copy(in[0], in[0] + n * m_in, z.begin());
        break;
      case ir::OpKind::dropout: {
        // Inverted dropout: keep each value with probability 1 - rate and scale it by 1 / (1 - rate).
        std::copy(in[0], in[0] + n * m_in, z.begin());
        mask.assign(n * m_out, T(1));
        if (dropout_key) {
          const std::uint64_t base = rng::dropout_base(*dropout_key, k);
          const std::uint32_t threshold = rng::dropout_threshold(layer.rate);
          const T scale = static_cast<T>(1.0 / (1.0 - layer.rate));
          for (std::size_t i = 0; i < n * m_out; i++) mask[i] = rng::dropout_keep(base, i, threshold) ? scale : T(0);
        }
        break;
      }
      case ir::OpKind::conv2d: {
        // z[f][oy][ox] = b[f] + sum_{c,ky,kx} w[f][c][ky][kx] x[c][oy SH - PH + ky][ox SW - PW + kx],
        // terms in the padding being 0.
        const Window win(layer, wire.in_shapes[0]);
        const std::size_t filters = layer.filters;
        const std::vector<T>& w = params_[first_param_[k]];
        const std::vector<T>& b = params_[first_param_[k] + 1];
        for (std::size_t s = 0; s < n; s++) {
          const T* xs = in[0] + s * m_in;
          T* zs = &z[s * m_out];
          for (std::size_t f = 0; f < filters; f++)
            for (std::size_t oy = 0; oy < win.oh; oy++)
              for (std::size_t ox = 0; ox < win.ow; ox++) {
                T sum = b[f];
                for (std::size_t c = 0; c < win.c; c++)
                  for (std::size_t ky = 0, iy = 0; ky < win.kh; ky++) {
                    if (!win.row(oy, ky, iy)) continue;
                    for (std::size_t kx = 0, ix = 0; kx < win.kw; kx++) {
                      if (!win.col(ox, kx, ix)) continue;
                      sum += w[((f * win.c + c) * win.kh + ky) * win.kw + kx] * xs[(c * win.h + iy) * win.w + ix];
                    }
                  }
                zs[(f * win.oh + oy) * win.ow + ox] = sum;
              }
        }
        break;
      }
      case ir::OpKind::maxpool2d: {
        // z[c][oy][ox] = max over the window of x[c][oy SH + ky][ox SW + kx]
        const Window win(layer, wire.in_shapes[0]);
        for (std::size_t s = 0; s < n; s++) {
          const T* xs = in[0] + s * m_in;
          for (std::size_t c = 0; c < win.c; c++)
            for (std::size_t oy = 0; oy < win.oh; oy++)
              for (std::size_t ox = 0; ox < win.ow; ox++)
                z[s * m_out + (c * win.oh + oy) * win.ow + ox] = xs[window_argmax(win, xs, c, oy, ox)];
        }
        break;
      }
      case ir::OpKind::avgpool2d: {
        // z[c][oy][ox] = sum over the window of x[c][oy SH + ky][ox SW + kx] / (KH KW)
        const Window win(layer, wire.in_shapes[0]);
        const T count = static_cast<T>(win.kh * win.kw);
        for (std::size_t s = 0; s < n; s++) {
          const T* xs = in[0] + s * m_in;
          for (std::size_t c = 0; c < win.c; c++)
            for (std::size_t oy = 0; oy < win.oh; oy++)
              for (std::size_t ox = 0; ox < win.ow; ox++) {
                T sum = 0;
                for (std::size_t ky = 0; ky < win.kh; ky++)
                  for (std::size_t kx = 0; kx < win.kw; kx++)
                    sum += xs[(c * win.h + oy * win.sh + ky) * win.w + ox * win.sw + kx];
                z[s * m_out + (c * win.oh + oy) * win.ow + ox] = sum / count;
              }
        }
        break;
      }
      case ir::OpKind::add:
        // z = sum of the inputs
        for (std::size_t i = 0; i < n * m_out; i++) {
          T sum = 0;
          for (const T* input : in) sum += input[i];
          z[i] = sum;
        }
        break;
      case ir::OpKind::concat:
        // Per sample, the inputs' per-sample vectors one after another, in `inputs` order.
        for (std::size_t s = 0; s < n; s++) {
          std::size_t offset = 0;
          for (std::size_t i = 0; i < in.size(); i++) {
            const std::size_t m = wire.in_sizes[i];
            std::copy(in[i] + s * m, in[i] + (s + 1) * m, &z[s * m_out + offset]);
            offset += m;
          }
        }
        break;
      case ir::OpKind::glu: {
        // h = x W^T + b with W [2U, in]; z[j] = h[j] sigmoid(h[U + j]) (first half value, second gate).
        const std::size_t u = layer.units;
        const std::vector<T>& w = params_[first_param_[k]];
        const std::vector<T>& b = params_[first_param_[k] + 1];
        h.resize(n * 2 * u);
        for (std::size_t s = 0; s < n; s++) {
          T* hs = &h[s * 2 * u];
          for (std::size_t o = 0; o < 2 * u; o++) {
            T sum = b[o];
            for (std::size_t i = 0; i < m_in; i++) sum += w[o * m_in + i] * in[0][s * m_in + i];
            hs[o] = sum;
          }
          for (std::size_t j = 0; j < u; j++) z[s * m_out + j] = hs[j] * sigmoid(hs[u + j]);
        }
        break;
      }
      case ir::OpKind::prelu: {
        // z = x > 0 ? x : w[c] x, c the channel ([C, H, W]: S = H W positions each) or feature ([N]).
        const std::vector<T>& w = params_[first_param_[k]];
        const std::size_t channels = w.size(), positions = m_in / channels;
        for (std::size_t s = 0; s < n; s++)
          for (std::size_t c = 0; c < channels; c++)
            for (std::size_t p = 0; p < positions; p++) {
              const std::size_t i = s * m_in + c * positions + p;
              z[i] = in[0][i] > T(0) ? in[0][i] : w[c] * in[0][i];
            }
        break;
      }
    }
    if (layer.kind == ir::OpKind::dropout) {
      for (std::size_t i = 0; i < n * m_out; i++) a[i] = z[i] * mask[i];
    } else {
      for (std::size_t s = 0; s < n; s++) activate(layer.activation, &z[s * m_out], m_out, &a[s * m_out]);
    }
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
  const std::size_t layers = graph_.layers.size();
  // gx is dLoss/dx and g[k] dLoss/d(output of layer k), each summed over the layers that read the
  // value; walking from the last layer to the first, every reader of layer k has added its share
  // by the time k is reached (readers come after what they read).
  std::vector<T> gx(n * graph_.input_features(), T(0));
  if (layers == 0) std::copy(dy, dy + gx.size(), gx.begin());
  std::vector<std::vector<T>> g(layers);
  for (std::size_t k = 0; k < layers; k++) g[k].assign(n * graph_.layers[k].out_features, T(0));
  if (layers > 0) std::copy(dy, dy + g.back().size(), g.back().begin());
  for (std::size_t k = layers; k-- > 0;) {
    const auto& layer = graph_.layers[k];
    const Wiring& wire = wiring_[k];
    const std::size_t m_in = layer.in_features, m_out = layer.out_features;
    // in[i] as in run(); gin[i] accumulates dLoss/d(input i).
    std::vector<const T*> in;
    std::vector<T*> gin;
    for (auto j : wire.inputs) {
      in.push_back(j == ir::kGraphInput ? x : trace.a[j].data());
      gin.push_back(j == ir::kGraphInput ? gx.data() : g[j].data());
    }
    std::vector<T> dz(n * m_out);
    if (layer.kind == ir::OpKind::dropout) {
      // a = z * mask  =>  dz = da * mask
      for (std::size_t i = 0; i < n * m_out; i++) dz[i] = g[k][i] * trace.mask[k][i];
    } else {
      for (std::size_t s = 0; s < n; s++)
        activate_backward(layer.activation, &trace.z[k][s * m_out], &trace.a[k][s * m_out], &g[k][s * m_out], m_out,
                          &dz[s * m_out]);
    }
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
              dw[o * m_in + i] += d * in[0][s * m_in + i];
              gin[0][s * m_in + i] += d * w[o * m_in + i];
            }
          }
        break;
      }
      case ir::OpKind::activation:
      case ir::OpKind::dropout:
      case ir::OpKind::flatten:
        // z = x (the activation or mask is undone above)  =>  dx = dz
        for (std::size_t i = 0; i < n * m_in; i++) gin[0][i] += dz[i];
        break;
      case ir::OpKind::conv2d: {
        // Each term w[f][c][ky][kx] x[c][iy][ix] of z[f][oy][ox]  =>  dw[f][c][ky][kx] += dz x[c][iy][ix],
        // dx[c][iy][ix] += dz w[f][c][ky][kx]; db[f] = sum of dz[f][.][.] over samples and positions.
        const Window win(layer, wire.in_shapes[0]);
        const std::size_t filters = layer.filters;
        const std::vector<T>& w = params_[first_param_[k]];
        std::vector<T>& dw = grads[first_param_[k]];
        std::vector<T>& db = grads[first_param_[k] + 1];
        for (std::size_t s = 0; s < n; s++) {
          const T* xs = in[0] + s * m_in;
          T* gs = gin[0] + s * m_in;
          const T* dzs = &dz[s * m_out];
          for (std::size_t f = 0; f < filters; f++)
            for (std::size_t oy = 0; oy < win.oh; oy++)
              for (std::size_t ox = 0; ox < win.ow; ox++) {
                const T d = dzs[(f * win.oh + oy) * win.ow + ox];
                db[f] += d;
                for (std::size_t c = 0; c < win.c; c++)
                  for (std::size_t ky = 0, iy = 0; ky < win.kh; ky++) {
                    if (!win.row(oy, ky, iy)) continue;
                    for (std::size_t kx = 0, ix = 0; kx < win.kw; kx++) {
                      if (!win.col(ox, kx, ix)) continue;
                      const std::size_t wi = ((f * win.c + c) * win.kh + ky) * win.kw + kx;
                      const std::size_t xi = (c * win.h + iy) * win.w + ix;
                      dw[wi] += d * xs[xi];
                      gs[xi] += d * w[wi];
                    }
                  }
              }
        }
        break;
      }
      case ir::OpKind::maxpool2d: {
        // dz goes to the window's first maximum; overlapping windows add up.
        const Window win(layer, wire.in_shapes[0]);
        for (std::size_t s = 0; s < n; s++) {
          const T* xs = in[0] + s * m_in;
          for (std::size_t c = 0; c < win.c; c++)
            for (std::size_t oy = 0; oy < win.oh; oy++)
              for (std::size_t ox = 0; ox < win.ow; ox++)
                gin[0][s * m_in + window_argmax(win, xs, c, oy, ox)] += dz[s * m_out + (c * win.oh + oy) * win.ow + ox];
        }
        break;
      }
      case ir::OpKind::avgpool2d: {
        // z = window sum / (KH KW)  =>  every value of the window gets dz / (KH KW).
        const Window win(layer, wire.in_shapes[0]);
        const T count = static_cast<T>(win.kh * win.kw);
        for (std::size_t s = 0; s < n; s++)
          for (std::size_t c = 0; c < win.c; c++)
            for (std::size_t oy = 0; oy < win.oh; oy++)
              for (std::size_t ox = 0; ox < win.ow; ox++) {
                const T d = dz[s * m_out + (c * win.oh + oy) * win.ow + ox] / count;
                for (std::size_t ky = 0; ky < win.kh; ky++)
                  for (std::size_t kx = 0; kx < win.kw; kx++)
                    gin[0][s * m_in + (c * win.h + oy * win.sh + ky) * win.w + ox * win.sw + kx] += d;
              }
        break;
      }
      case ir::OpKind::add:
        // z = sum of the inputs  =>  each input gets dz.
        for (T* gi : gin)
          for (std::size_t i = 0; i < n * m_out; i++) gi[i] += dz[i];
        break;
      case ir::OpKind::concat:
        // Each input gets its slice of dz back.
        for (std::size_t s = 0; s < n; s++) {
          std::size_t offset = 0;
          for (std::size_t i = 0; i < gin.size(); i++) {
            const std::size_t m = wire.in_sizes[i];
            for (std::size_t v = 0; v < m; v++) gin[i][s * m + v] += dz[s * m_out + offset + v];
            offset += m;
          }
        }
        break;
      case ir::OpKind::glu: {
        // z[j] = h[j] s(h[U + j]), s' = s (1 - s)  =>  dh[j] = dz[j] s(h[U + j]),
        // dh[U + j] = dz[j] h[j] s(h[U + j]) (1 - s(h[U + j])); then h = x W^T + b as for dense.
        const std::size_t u = layer.units;
        const std::vector<T>& w = params_[first_param_[k]];
        std::vector<T>& dw = grads[first_param_[k]];
        std::vector<T>& db = grads[first_param_[k] + 1];
        std::vector<T> dh(2 * u);
        for (std::size_t s = 0; s < n; s++) {
          const T* hs = &trace.h[k][s * 2 * u];
          for (std::size_t j = 0; j < u; j++) {
            const T gate = sigmoid(hs[u + j]);
            const T d = dz[s * m_out + j];
            dh[j] = d * gate;
            dh[u + j] = d * hs[j] * gate * (T(1) - gate);
          }
          for (std::size_t o = 0; o < 2 * u; o++) {
            db[o] += dh[o];
            for (std::size_t i = 0; i < m_in; i++) {
              dw[o * m_in + i] += dh[o] * in[0][s * m_in + i];
              gin[0][s * m_in + i] += dh[o] * w[o * m_in + i];
            }
          }
        }
        break;
      }
      case ir::OpKind::prelu: {
        // z = x > 0 ? x : w[c] x  =>  dx = x > 0 ? dz : w[c] dz; dw[c] = sum over samples and
        // positions with x <= 0 of dz x.
        const std::vector<T>& w = params_[first_param_[k]];
        std::vector<T>& dw = grads[first_param_[k]];
        const std::size_t channels = w.size(), positions = m_in / channels;
        for (std::size_t s = 0; s < n; s++)
          for (std::size_t c = 0; c < channels; c++)
            for (std::size_t p = 0; p < positions; p++) {
              const std::size_t i = s * m_in + c * positions + p;
              if (in[0][i] > T(0)) {
                gin[0][i] += dz[i];
              } else {
                gin[0][i] += w[c] * dz[i];
                dw[c] += dz[i] * in[0][i];
              }
            }
        break;
      }
    }
    std::vector<T>().swap(g[k]);  // read by no one else: every reader came after it
  }
  if (dx) std::copy(gx.begin(), gx.end(), dx);
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
