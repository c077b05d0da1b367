// maxpool2d: the maximum of each window of an input [C, H, W], per channel, giving [C, OH, OW]
// (window.hpp; no padding). Ties go to the window's first maximum, as in PyTorch.
#include "reference/kind.hpp"
#include "reference/kinds/window.hpp"

namespace castnet::interp::kinds {
namespace {

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

// z[c][oy][ox] = max over the window of x[c][oy SH + ky][ox SW + kx]
template <class T>
void forward(const Forward<T>& p) {
  const Window win(p.layer, p.in_shapes[0]);
  for (std::size_t s = 0; s < p.n; s++) {
    const T* xs = p.in[0] + s * p.m_in;
    for (std::size_t c = 0; c < win.c; c++)
      for (std::size_t oy = 0; oy < win.oh; oy++)
        for (std::size_t ox = 0; ox < win.ow; ox++)
          p.z[s * p.m_out + (c * win.oh + oy) * win.ow + ox] = xs[window_argmax(win, xs, c, oy, ox)];
  }
}

// dz goes to the window's first maximum; overlapping windows add up.
template <class T>
void backward(const Backward<T>& p) {
  const Window win(p.layer, p.in_shapes[0]);
  for (std::size_t s = 0; s < p.n; s++) {
    const T* xs = p.in[0] + s * p.m_in;
    for (std::size_t c = 0; c < win.c; c++)
      for (std::size_t oy = 0; oy < win.oh; oy++)
        for (std::size_t ox = 0; ox < win.ow; ox++) {
          const T d = p.dz[s * p.m_out + (c * win.oh + oy) * win.ow + ox];
          p.gin[0][s * p.m_in + window_argmax(win, xs, c, oy, ox)] += d;
        }
  }
}

}  // namespace

// Its check is check_pool (window.hpp), the same as avgpool2d's.
template <class T>
Kind<T> maxpool2d() {
  return {.check = check_pool, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> maxpool2d();
template Kind<double> maxpool2d();

}  // namespace castnet::interp::kinds
