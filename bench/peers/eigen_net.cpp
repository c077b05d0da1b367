// The Eigen peer (eigen_net.hpp). Each layer that computes something owns its output (n, out) and,
// when it has an activation after a linear part, its pre-activation; a layer that passes its input
// through (flatten, dropout at inference, identity) owns nothing: it reads, and its readers' gradients
// land, in its producer's buffers. Buffers grow to the largest n seen and are never shrunk.
#include "eigen_net.hpp"

// GCC 12's AVX-512 intrinsics trip -Wmaybe-uninitialized once inlined (GCC bug 105593; see
// runtime/include/castnet/kernels/simd.hpp): silenced around the Eigen includes, which covers
// every Eigen call in this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>  // Array::erf, for gelu
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace castnet::bench {
namespace {

using Index = Eigen::Index;
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXf;
using MatMap = Eigen::Map<Mat>;
using ConstMatMap = Eigen::Map<const Mat>;

constexpr std::size_t kInput = ir::kGraphInput;

Index idx(std::size_t v) { return static_cast<Index>(v); }

std::string label(const ir::Layer& l) { return std::string(ir::to_string(l.kind)) + " layer '" + l.name + "'"; }

bool params_are(const ir::Layer& l, const std::vector<ir::Shape>& shapes) {
  if (l.params.size() != shapes.size()) return false;
  for (std::size_t i = 0; i < shapes.size(); i++)
    if (l.params[i].shape != shapes[i]) return false;
  return true;
}

bool image_input(const ir::Layer& l) { return l.in_shapes.size() == 1 && l.in_shapes[0].size() == 3; }

// Its output is its input, so it gets no buffers of its own.
bool passes_through(const ir::Layer& l) {
  return l.kind == ir::OpKind::flatten || l.kind == ir::OpKind::dropout ||
         (l.kind == ir::OpKind::activation && l.activation.kind == ir::Activation::identity);
}

// A sliding window (conv2d, pools) over one sample [C, H, W]: kernel, stride, zero padding, and
// the output's OH x OW positions.
struct Window {
  Index c = 0, h = 0, w = 0, kh = 0, kw = 0, sh = 0, sw = 0, ph = 0, pw = 0, oh = 0, ow = 0;

  Window() = default;
  explicit Window(const ir::Layer& l)
      : c(idx(l.in_shapes[0][0])), h(idx(l.in_shapes[0][1])), w(idx(l.in_shapes[0][2])), kh(idx(l.kernel[0])),
        kw(idx(l.kernel[1])), sh(idx(l.stride[0])), sw(idx(l.stride[1])), ph(idx(l.padding[0])),
        pw(idx(l.padding[1])), oh((h + 2 * ph - kh) / sh + 1), ow((w + 2 * pw - kw) / sw + 1) {}

  Index taps() const { return c * kh * kw; }
  Index positions() const { return oh * ow; }
};

// col (C KH KW, OH OW): row (c, ky, kx) holds what that tap reads at each output position, 0 in
// the padding. The conv is then W (F, C KH KW) * col.
void im2col(const Window& w, const float* x, float* col) {
  for (Index c = 0; c < w.c; c++)
    for (Index ky = 0; ky < w.kh; ky++)
      for (Index kx = 0; kx < w.kw; kx++, col += w.positions())
        for (Index oy = 0; oy < w.oh; oy++) {
          float* row = col + oy * w.ow;
          const Index iy = oy * w.sh + ky - w.ph;
          if (iy < 0 || iy >= w.h) {
            std::fill(row, row + w.ow, 0.f);
            continue;
          }
          const float* xr = x + (c * w.h + iy) * w.w;
          for (Index ox = 0; ox < w.ow; ox++) {
            const Index ix = ox * w.sw + kx - w.pw;
            row[ox] = ix >= 0 && ix < w.w ? xr[ix] : 0.f;
          }
        }
}

// The transpose of im2col: each tap's gradient added back to the input value it read.
void col2im_add(const Window& w, const float* col, float* dx) {
  for (Index c = 0; c < w.c; c++)
    for (Index ky = 0; ky < w.kh; ky++)
      for (Index kx = 0; kx < w.kw; kx++, col += w.positions())
        for (Index oy = 0; oy < w.oh; oy++) {
          const Index iy = oy * w.sh + ky - w.ph;
          if (iy < 0 || iy >= w.h) continue;
          const float* row = col + oy * w.ow;
          float* dr = dx + (c * w.h + iy) * w.w;
          for (Index ox = 0; ox < w.ow; ox++) {
            const Index ix = ox * w.sw + kx - w.pw;
            if (ix >= 0 && ix < w.w) dr[ix] += row[ox];
          }
        }
}

// The offset in one sample of window (c, oy, ox)'s maximum; on ties the first in row-major window
// order, as PyTorch's CPU max_pool2d.
Index window_max(const Window& w, const float* x, Index c, Index oy, Index ox) {
  const Index origin = (c * w.h + oy * w.sh) * w.w + ox * w.sw;
  Index best = origin;
  for (Index ky = 0; ky < w.kh; ky++)
    for (Index kx = 0; kx < w.kw; kx++) {
      const Index i = origin + ky * w.w + kx;
      if (x[i] > x[best]) best = i;
    }
  return best;
}

constexpr float kSqrtHalf = 1.f / std::numbers::sqrt2_v<float>;
constexpr float kInvSqrt2Pi = std::numbers::inv_sqrtpi_v<float> * kSqrtHalf;

// a = f(z), softmax over each row (sample); rows is scratch of at least n values.
template <class Z>
void activate(const ir::ActivationSpec& act, const Eigen::MatrixBase<Z>& z, MatMap a, Vec& rows) {
  const float alpha = static_cast<float>(act.alpha);
  const auto za = z.array();
  auto aa = a.array();
  switch (act.kind) {
    case ir::Activation::identity:
      a = z;
      return;
    case ir::Activation::relu:
      aa = za.max(0.f);
      return;
    case ir::Activation::leaky_relu:
      aa = (za > 0.f).select(za, alpha * za);
      return;
    case ir::Activation::elu:
      aa = (za > 0.f).select(za, alpha * (za.exp() - 1.f));
      return;
    case ir::Activation::gelu:  // exact: z Phi(z), as torch's approximate="none"
      aa = 0.5f * za * (1.f + (za * kSqrtHalf).erf());
      return;
    case ir::Activation::silu:
      aa = za * za.logistic();
      return;
    case ir::Activation::tanh:
      aa = za.tanh();
      return;
    case ir::Activation::sigmoid:
      aa = za.logistic();
      return;
    case ir::Activation::softplus:  // alpha is beta; torch returns z where beta z > 20
      aa = (alpha * za > 20.f).select(za, (alpha * za).exp().log1p() / alpha);
      return;
    case ir::Activation::softmax: {
      auto r = rows.head(z.rows()).array();
      r = za.rowwise().maxCoeff();
      aa = (za.colwise() - r).exp();
      r = aa.rowwise().sum();
      aa.colwise() /= r;
      return;
    }
  }
}

// g = dLoss/dz from g = dLoss/da, in place, given z and a = f(z).
template <class Z>
void activate_backward(const ir::ActivationSpec& act, const Eigen::MatrixBase<Z>& z, const ConstMatMap& a, MatMap g,
                       Vec& rows) {
  const float alpha = static_cast<float>(act.alpha);
  const auto za = z.array();
  const auto aa = a.array();
  auto ga = g.array();
  switch (act.kind) {
    case ir::Activation::identity:
      return;
    case ir::Activation::relu:  // torch: relu'(0) = 0
      ga = (za > 0.f).select(ga, 0.f);
      return;
    case ir::Activation::leaky_relu:
      ga = (za > 0.f).select(ga, alpha * ga);
      return;
    case ir::Activation::elu:
      ga = (za > 0.f).select(ga, alpha * za.exp() * ga);
      return;
    case ir::Activation::gelu:  // Phi(z) + z phi(z)
      ga *= 0.5f * (1.f + (za * kSqrtHalf).erf()) + za * (-0.5f * za.square()).exp() * kInvSqrt2Pi;
      return;
    case ir::Activation::silu:  // s (1 + z (1 - s)), s = sigmoid(z)
      ga *= za.logistic() * (1.f + za * (1.f - za.logistic()));
      return;
    case ir::Activation::tanh:
      ga *= 1.f - aa.square();
      return;
    case ir::Activation::sigmoid:
      ga *= aa * (1.f - aa);
      return;
    case ir::Activation::softplus:
      ga = (alpha * za > 20.f).select(ga, (alpha * za).logistic() * ga);
      return;
    case ir::Activation::softmax: {  // dz_i = a_i (g_i - sum_j a_j g_j)
      auto r = rows.head(z.rows()).array();
      r = (aa * ga).rowwise().sum();
      ga = aa * (ga.colwise() - r);
      return;
    }
  }
}

// One layer. Only layers that own their value (value == their index) compute anything.
struct Node {
  ir::OpKind kind{};
  ir::ActivationSpec act;
  std::vector<std::size_t> in;  // the value each input is read from: a layer index or kInput
  std::size_t value = 0;        // where its output is: its own index, or its input's value
  Index out = 0;                // features per sample
  bool needs_grad = false;      // its output's gradient reaches a parameter
  Window win;                   // conv2d, pools
  Mat w;                        // dense (out, in); conv2d (F, C KH KW), i.e. torch's (F, C, KH, KW)
  Vec b;
  Mat dw;                       // conv2d: the weight gradient, summed over the samples
  Vec db;
  Mat col, dcol;                // conv2d: one sample's im2col and its gradient
  Mat z, a, g;                  // (rows, out): pre-activation (fused activations only), output, dLoss/da

  bool fused() const { return act.kind != ir::Activation::identity && kind != ir::OpKind::activation; }
};

}  // namespace

struct EigenNet::State {
  std::vector<Node> nodes;            // per layer
  std::vector<std::size_t> trained;   // the layers with parameters (dense, conv2d), in order
  Index inputs = 0;
  std::size_t output = kInput;        // the network output's value
  ir::LossKind loss{};
  std::string no_training;            // why train_step refuses; empty if it does not
  Index rows = 0, grad_rows = 0;      // samples the buffers hold
  Vec row_a, row_b;                   // per-sample scratch
  const float* x = nullptr;           // the input of the call in progress

  bool needs(std::size_t v) const { return v != kInput && nodes[v].needs_grad; }

  ConstMatMap value(std::size_t v, Index n) const {
    return v == kInput ? ConstMatMap(x, n, inputs) : ConstMatMap(nodes[v].a.data(), n, nodes[v].out);
  }
  MatMap grad(std::size_t v, Index n) { return MatMap(nodes[v].g.data(), n, nodes[v].out); }

  void reserve(Index n, bool training) {
    if (n > rows) {
      for (std::size_t k = 0; k < nodes.size(); k++) {
        Node& l = nodes[k];
        if (l.value != k) continue;
        l.a.resize(n, l.out);
        if (l.fused()) l.z.resize(n, l.out);
      }
      row_a.resize(n);
      row_b.resize(n);
      rows = n;
    }
    if (training && n > grad_rows) {
      for (std::size_t k = 0; k < nodes.size(); k++)
        if (nodes[k].value == k && nodes[k].needs_grad) nodes[k].g.resize(n, nodes[k].out);
      grad_rows = n;
    }
  }

  void run(Index n) {
    for (std::size_t k = 0; k < nodes.size(); k++) {
      Node& l = nodes[k];
      if (l.value != k) continue;
      MatMap a(l.a.data(), n, l.out);
      MatMap pre = l.fused() ? MatMap(l.z.data(), n, l.out) : a;
      switch (l.kind) {
        case ir::OpKind::dense:
          pre.noalias() = value(l.in[0], n) * l.w.transpose();
          pre.rowwise() += l.b.transpose();
          break;
        case ir::OpKind::conv2d: {
          const ConstMatMap xin = value(l.in[0], n);
          for (Index s = 0; s < n; s++) {
            im2col(l.win, xin.data() + s * xin.cols(), l.col.data());
            MatMap zs(pre.data() + s * l.out, l.w.rows(), l.win.positions());
            zs.noalias() = l.w * l.col;
            zs.colwise() += l.b;
          }
          break;
        }
        case ir::OpKind::maxpool2d: {
          const ConstMatMap xin = value(l.in[0], n);
          const Window& w = l.win;
          for (Index s = 0; s < n; s++) {
            const float* xs = xin.data() + s * xin.cols();
            float* zs = pre.data() + s * l.out;
            for (Index c = 0; c < w.c; c++)
              for (Index oy = 0; oy < w.oh; oy++)
                for (Index ox = 0; ox < w.ow; ox++) *zs++ = xs[window_max(w, xs, c, oy, ox)];
          }
          break;
        }
        case ir::OpKind::avgpool2d: {
          const ConstMatMap xin = value(l.in[0], n);
          const Window& w = l.win;
          const float count = static_cast<float>(w.kh * w.kw);
          for (Index s = 0; s < n; s++) {
            const float* xs = xin.data() + s * xin.cols();
            float* zs = pre.data() + s * l.out;
            for (Index c = 0; c < w.c; c++)
              for (Index oy = 0; oy < w.oh; oy++)
                for (Index ox = 0; ox < w.ow; ox++) {
                  const float* origin = xs + (c * w.h + oy * w.sh) * w.w + ox * w.sw;
                  float sum = 0.f;
                  for (Index ky = 0; ky < w.kh; ky++)
                    for (Index kx = 0; kx < w.kw; kx++) sum += origin[ky * w.w + kx];
                  *zs++ = sum / count;
                }
          }
          break;
        }
        case ir::OpKind::add:
          pre = value(l.in[0], n);
          for (std::size_t i = 1; i < l.in.size(); i++) pre += value(l.in[i], n);
          break;
        case ir::OpKind::concat: {
          // Per sample, the inputs' values one after another: for images, along channels.
          Index offset = 0;
          for (std::size_t v : l.in) {
            const ConstMatMap xin = value(v, n);
            pre.middleCols(offset, xin.cols()) = xin;
            offset += xin.cols();
          }
          break;
        }
        case ir::OpKind::activation:
          activate(l.act, value(l.in[0], n), a, row_a);
          break;
        case ir::OpKind::flatten:  // pass through: own no value
        case ir::OpKind::dropout:
        case ir::OpKind::glu:      // refused by supports()
        case ir::OpKind::prelu:
        case ir::OpKind::hardtanh:
        case ir::OpKind::trainable_swish:
        case ir::OpKind::basis_activation:
        case ir::OpKind::kan:
        case ir::OpKind::layernorm:
          break;
      }
      if (l.fused()) activate(l.act, pre, a, row_a);
    }
  }

  // The loss of the network's output; writes dLoss/dy into dy (n, outputs).
  float loss_and_dy(const float* target, Index n, MatMap dy) {
    const ConstMatMap y = value(output, n);
    const Index m = y.cols();
    const float count = static_cast<float>(n * m);
    switch (loss) {
      case ir::LossKind::mse: {
        dy = y - ConstMatMap(target, n, m);
        const float l = dy.squaredNorm() / count;
        dy *= 2.f / count;
        return l;
      }
      case ir::LossKind::binary_cross_entropy: {
        // On logits, as nn.BCEWithLogitsLoss: max(y, 0) - t y + log1p(e^-|y|); dL/dy = sigmoid(y) - t.
        const auto ya = y.array();
        const auto ta = ConstMatMap(target, n, m).array();
        dy.array() = (ya.logistic() - ta) / count;
        return (ya.max(0.f) - ta * ya + (-ya.abs()).exp().log1p()).sum() / count;
      }
      case ir::LossKind::softmax_cross_entropy: {
        // On logits, as nn.CrossEntropyLoss: logsumexp(y) - y_c; dL/dy = softmax(y) - onehot(c).
        auto ymax = row_a.head(n);
        auto sumexp = row_b.head(n);
        ymax = y.rowwise().maxCoeff();
        dy.array() = (y.array().colwise() - ymax.array()).exp();
        sumexp = dy.rowwise().sum();
        dy.array().colwise() /= sumexp.array();
        float total = 0.f;
        for (Index s = 0; s < n; s++) {
          const float c = target[s];
          if (!(c >= 0.f && c < static_cast<float>(m) && c == std::floor(c)))
            throw std::invalid_argument("EigenNet: sample " + std::to_string(s) + ": class index " +
                                        std::to_string(c) + " is not one of 0.." + std::to_string(m - 1));
          const auto cls = static_cast<Index>(c);
          total += ymax[s] + std::log(sumexp[s]) - y(s, cls);
          dy(s, cls) -= 1.f;
        }
        dy /= static_cast<float>(n);
        return total / static_cast<float>(n);
      }
    }
    throw std::logic_error("EigenNet: unknown loss kind");
  }

  // Backward from the output's gradient, each layer's parameters updated (w -= lr dw) as soon as
  // its input gradient, which reads them, has been taken.
  void backward_step(Index n, float lr) {
    for (std::size_t k = nodes.size(); k-- > 0;) {
      Node& l = nodes[k];
      if (l.value != k || !l.needs_grad) continue;
      MatMap g = grad(k, n);
      if (l.act.kind != ir::Activation::identity) {
        const ConstMatMap a(l.a.data(), n, l.out);
        if (l.kind == ir::OpKind::activation)
          activate_backward(l.act, value(l.in[0], n), a, g, row_a);
        else
          activate_backward(l.act, ConstMatMap(l.z.data(), n, l.out), a, g, row_a);
      }
      switch (l.kind) {
        case ir::OpKind::dense: {
          if (needs(l.in[0])) grad(l.in[0], n).noalias() += g * l.w;
          l.w.noalias() -= lr * g.transpose() * value(l.in[0], n);
          l.b -= lr * g.colwise().sum().transpose();
          break;
        }
        case ir::OpKind::conv2d: {
          const ConstMatMap xin = value(l.in[0], n);
          const bool to_input = needs(l.in[0]);
          l.dw.setZero();
          l.db.setZero();
          for (Index s = 0; s < n; s++) {
            im2col(l.win, xin.data() + s * xin.cols(), l.col.data());
            const ConstMatMap gs(g.data() + s * l.out, l.w.rows(), l.win.positions());
            l.dw.noalias() += gs * l.col.transpose();
            l.db += gs.rowwise().sum();
            if (to_input) {
              l.dcol.noalias() = l.w.transpose() * gs;
              col2im_add(l.win, l.dcol.data(), grad(l.in[0], n).data() + s * xin.cols());
            }
          }
          l.w -= lr * l.dw;
          l.b -= lr * l.db;
          break;
        }
        case ir::OpKind::maxpool2d: {
          const ConstMatMap xin = value(l.in[0], n);
          MatMap gin = grad(l.in[0], n);
          const Window& w = l.win;
          for (Index s = 0; s < n; s++) {
            const float* xs = xin.data() + s * xin.cols();
            float* gs = gin.data() + s * gin.cols();
            const float* dz = g.data() + s * l.out;
            for (Index c = 0; c < w.c; c++)
              for (Index oy = 0; oy < w.oh; oy++)
                for (Index ox = 0; ox < w.ow; ox++) gs[window_max(w, xs, c, oy, ox)] += *dz++;
          }
          break;
        }
        case ir::OpKind::avgpool2d: {
          MatMap gin = grad(l.in[0], n);
          const Window& w = l.win;
          const float count = static_cast<float>(w.kh * w.kw);
          for (Index s = 0; s < n; s++) {
            float* gs = gin.data() + s * gin.cols();
            const float* dz = g.data() + s * l.out;
            for (Index c = 0; c < w.c; c++)
              for (Index oy = 0; oy < w.oh; oy++)
                for (Index ox = 0; ox < w.ow; ox++) {
                  const float d = *dz++ / count;
                  float* origin = gs + (c * w.h + oy * w.sh) * w.w + ox * w.sw;
                  for (Index ky = 0; ky < w.kh; ky++)
                    for (Index kx = 0; kx < w.kw; kx++) origin[ky * w.w + kx] += d;
                }
          }
          break;
        }
        case ir::OpKind::activation:
        case ir::OpKind::add:
          for (std::size_t v : l.in)
            if (needs(v)) grad(v, n) += g;
          break;
        case ir::OpKind::concat: {
          Index offset = 0;
          for (std::size_t v : l.in) {
            const Index m = v == kInput ? inputs : nodes[v].out;
            if (needs(v)) grad(v, n) += g.middleCols(offset, m);
            offset += m;
          }
          break;
        }
        case ir::OpKind::flatten:  // pass through: own no value
        case ir::OpKind::dropout:
        case ir::OpKind::glu:      // refused by supports()
        case ir::OpKind::prelu:
        case ir::OpKind::hardtanh:
        case ir::OpKind::trainable_swish:
        case ir::OpKind::basis_activation:
        case ir::OpKind::kan:
        case ir::OpKind::layernorm:
          break;
      }
    }
  }
};

bool EigenNet::supports(const ir::Graph& g, std::string* why_not, bool training) {
  const auto refuse = [&](const std::string& why) {
    if (why_not) *why_not = why;
    return false;
  };
  for (const ir::Layer& l : g.layers) {
    const std::size_t in = l.in_features, out = l.out_features;
    switch (l.kind) {
      case ir::OpKind::glu:
      case ir::OpKind::prelu:
      case ir::OpKind::hardtanh:
      case ir::OpKind::trainable_swish:
      case ir::OpKind::basis_activation:
      case ir::OpKind::kan:
      case ir::OpKind::layernorm:
        return refuse(label(l));
      case ir::OpKind::dropout:
        if (training) return refuse("dropout in training (layer '" + l.name + "')");
        break;
      case ir::OpKind::dense:
        if (!params_are(l, {{out, in}, {out}})) return refuse(label(l) + ": unexpected parameter shapes");
        break;
      case ir::OpKind::conv2d:
        if (!image_input(l)) return refuse(label(l) + " without a [C, H, W] input");
        if (!params_are(l, {{l.filters, l.in_shapes[0][0], l.kernel[0], l.kernel[1]}, {l.filters}}))
          return refuse(label(l) + ": unexpected parameter shapes");
        break;
      case ir::OpKind::maxpool2d:
      case ir::OpKind::avgpool2d:
        if (!image_input(l)) return refuse(label(l) + " without a [C, H, W] input");
        if (l.padding[0] != 0 || l.padding[1] != 0) return refuse(label(l) + " with padding");
        break;
      case ir::OpKind::activation:
      case ir::OpKind::flatten:
      case ir::OpKind::add:
      case ir::OpKind::concat:
        break;
    }
  }
  if (training && g.param_count() == 0) return refuse("no parameters to train");
  return true;
}

void EigenNet::set_threads(int n) { Eigen::setNbThreads(n); }

std::string EigenNet::version() {
  // The vectors Eigen was compiled for: castnet bench --arch builds it once per instruction set.
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION) + " (" + Eigen::SimdInstructionSetsInUse() + ")";
}

EigenNet::EigenNet(const ir::Graph& g) : s_(std::make_unique<State>()) {
  std::string why;
  if (!supports(g, &why, false)) throw std::invalid_argument("EigenNet: " + why);
  if (!supports(g, &why, true)) s_->no_training = why;
  State& s = *s_;
  s.inputs = idx(g.input_features());
  s.loss = g.loss.kind;
  for (std::size_t k = 0; k < g.layers.size(); k++) {
    const ir::Layer& layer = g.layers[k];
    Node& l = s.nodes.emplace_back();
    l.kind = layer.kind;
    l.act = layer.activation;
    l.out = idx(layer.out_features);
    // An empty input list means the previous layer (the network's input for the first).
    const std::vector<std::size_t> inputs =
        layer.inputs.empty() ? std::vector<std::size_t>{k == 0 ? kInput : k - 1} : layer.inputs;
    for (std::size_t j : inputs) l.in.push_back(j == kInput ? kInput : s.nodes[j].value);
    l.value = passes_through(layer) ? l.in[0] : k;
    l.needs_grad = !layer.params.empty() ||
                   std::any_of(l.in.begin(), l.in.end(), [&](std::size_t v) { return s.needs(v); });
    if (!layer.params.empty()) s.trained.push_back(k);
    switch (layer.kind) {
      case ir::OpKind::dense:
        l.w = Mat::Zero(l.out, idx(layer.in_features));
        l.b = Vec::Zero(l.out);
        break;
      case ir::OpKind::conv2d:
        l.win = Window(layer);
        l.w = Mat::Zero(idx(layer.filters), l.win.taps());
        l.b = Vec::Zero(idx(layer.filters));
        l.col.resize(l.win.taps(), l.win.positions());
        if (s.no_training.empty()) {
          l.dw.resize(l.w.rows(), l.w.cols());
          l.db.resize(l.b.size());
          if (s.needs(l.in[0])) l.dcol.resize(l.col.rows(), l.col.cols());
        }
        break;
      case ir::OpKind::maxpool2d:
      case ir::OpKind::avgpool2d:
        l.win = Window(layer);
        break;
      case ir::OpKind::activation:
      case ir::OpKind::dropout:
      case ir::OpKind::flatten:
      case ir::OpKind::add:
      case ir::OpKind::concat:
      case ir::OpKind::glu:
      case ir::OpKind::prelu:
      case ir::OpKind::hardtanh:
      case ir::OpKind::trainable_swish:
      case ir::OpKind::basis_activation:
      case ir::OpKind::kan:
      case ir::OpKind::layernorm:
        break;
    }
  }
  s.output = s.nodes.empty() ? kInput : s.nodes.back().value;
}

EigenNet::~EigenNet() = default;

void EigenNet::set_params(const std::vector<std::vector<float>>& params) {
  if (params.size() != 2 * s_->trained.size())
    throw std::invalid_argument("EigenNet::set_params: " + std::to_string(params.size()) + " tensors for " +
                                std::to_string(2 * s_->trained.size()));
  for (std::size_t t = 0; t < s_->trained.size(); t++) {
    Node& l = s_->nodes[s_->trained[t]];
    const std::vector<float>& w = params[2 * t];
    const std::vector<float>& b = params[2 * t + 1];
    if (idx(w.size()) != l.w.size() || idx(b.size()) != l.b.size())
      throw std::invalid_argument("EigenNet::set_params: tensors " + std::to_string(2 * t) + " and " +
                                  std::to_string(2 * t + 1) + " have the wrong sizes");
    l.w = ConstMatMap(w.data(), l.w.rows(), l.w.cols());
    l.b = Eigen::Map<const Vec>(b.data(), l.b.size());
  }
}

std::vector<std::vector<float>> EigenNet::params() const {
  std::vector<std::vector<float>> p;
  for (std::size_t k : s_->trained) {
    const Node& l = s_->nodes[k];
    p.emplace_back(l.w.data(), l.w.data() + l.w.size());
    p.emplace_back(l.b.data(), l.b.data() + l.b.size());
  }
  return p;
}

void EigenNet::forward(const float* x, std::size_t n, float* y) {
  State& s = *s_;
  s.reserve(idx(n), false);
  s.x = x;
  s.run(idx(n));
  const ConstMatMap out = s.value(s.output, idx(n));
  MatMap(y, out.rows(), out.cols()) = out;
}

float EigenNet::train_step(const float* x, const float* target, std::size_t n, float lr) {
  State& s = *s_;
  if (!s.no_training.empty()) throw std::logic_error("EigenNet: cannot train: " + s.no_training);
  if (n == 0) throw std::invalid_argument("EigenNet: train_step needs at least one sample");
  const Index rows = idx(n);
  s.reserve(rows, true);
  s.x = x;
  s.run(rows);
  // Every gradient is a sum over the value's readers, except the output's, which the loss sets.
  for (std::size_t k = 0; k < s.nodes.size(); k++)
    if (s.nodes[k].value == k && s.nodes[k].needs_grad && k != s.output) s.grad(k, rows).setZero();
  const float loss = s.loss_and_dy(target, rows, s.grad(s.output, rows));
  s.backward_step(rows, lr);
  return loss;
}

}  // namespace castnet::bench
