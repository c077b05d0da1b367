// conv2d: F filters of W [F, C, KH, KW] (torch's layout) slide over an input [C, H, W] with zero
// padding and a stride, plus a bias [F], giving [F, OH, OW] (window.hpp); the activation fused
// into the layer follows (the interpreter applies it).
#include "reference/kind.hpp"
#include "reference/kinds/window.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  check_window(c);
  const Window win(c.layer, c.in_shapes[0]);
  const std::size_t f = c.layer.filters;
  require(f > 0, c.what + " needs at least one filter");
  require(c.params_are({{f, win.c, win.kh, win.kw}, {f}}),
          c.what + " needs a weight [F, C, KH, KW] = " + ir::shape_text({f, win.c, win.kh, win.kw}) +
              " and a bias [F] = " + ir::shape_text({f}));
  c.expect_out({f, win.oh, win.ow});
}

// z[f][oy][ox] = b[f] + sum_{c,ky,kx} w[f][c][ky][kx] x[c][oy SH - PH + ky][ox SW - PW + kx],
// terms in the padding being 0.
template <class T>
void forward(const Forward<T>& p) {
  const Window win(p.layer, p.in_shapes[0]);
  const std::vector<T>& w = p.params[0];
  const std::vector<T>& b = p.params[1];
  for (std::size_t s = 0; s < p.n; s++) {
    const T* xs = p.in[0] + s * p.m_in;
    T* zs = p.z + s * p.m_out;
    for (std::size_t f = 0; f < p.layer.filters; f++)
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
}

// Each term w[f][c][ky][kx] x[c][iy][ix] of z[f][oy][ox]  =>  dw[f][c][ky][kx] += dz x[c][iy][ix],
// dx[c][iy][ix] += dz w[f][c][ky][kx]; db[f] = sum of dz[f][.][.] over samples and positions.
template <class T>
void backward(const Backward<T>& p) {
  const Window win(p.layer, p.in_shapes[0]);
  const std::vector<T>& w = p.params[0];
  std::vector<T>& dw = p.grads[0];
  std::vector<T>& db = p.grads[1];
  for (std::size_t s = 0; s < p.n; s++) {
    const T* xs = p.in[0] + s * p.m_in;
    T* gs = p.gin[0] + s * p.m_in;
    const T* dzs = p.dz + s * p.m_out;
    for (std::size_t f = 0; f < p.layer.filters; f++)
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
}

}  // namespace

template <class T>
Kind<T> conv2d() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> conv2d();
template Kind<double> conv2d();

}  // namespace castnet::interp::kinds
