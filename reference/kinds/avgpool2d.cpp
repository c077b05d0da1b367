// avgpool2d: the mean of each window of an input [C, H, W], per channel, giving [C, OH, OW]
// (window.hpp; no padding, so every window holds KH KW values).
#include "reference/kind.hpp"
#include "reference/kinds/window.hpp"

namespace castnet::interp::kinds {
namespace {

// z[c][oy][ox] = sum over the window of x[c][oy SH + ky][ox SW + kx] / (KH KW)
template <class T>
void forward(const Forward<T>& p) {
  const Window win(p.layer, p.in_shapes[0]);
  const T count = static_cast<T>(win.kh * win.kw);
  for (std::size_t s = 0; s < p.n; s++) {
    const T* xs = p.in[0] + s * p.m_in;
    for (std::size_t c = 0; c < win.c; c++)
      for (std::size_t oy = 0; oy < win.oh; oy++)
        for (std::size_t ox = 0; ox < win.ow; ox++) {
          T sum = 0;
          for (std::size_t ky = 0; ky < win.kh; ky++)
            for (std::size_t kx = 0; kx < win.kw; kx++)
              sum += xs[(c * win.h + oy * win.sh + ky) * win.w + ox * win.sw + kx];
          p.z[s * p.m_out + (c * win.oh + oy) * win.ow + ox] = sum / count;
        }
  }
}

// z = window sum / (KH KW)  =>  every value of the window gets dz / (KH KW).
template <class T>
void backward(const Backward<T>& p) {
  const Window win(p.layer, p.in_shapes[0]);
  const T count = static_cast<T>(win.kh * win.kw);
  for (std::size_t s = 0; s < p.n; s++)
    for (std::size_t c = 0; c < win.c; c++)
      for (std::size_t oy = 0; oy < win.oh; oy++)
        for (std::size_t ox = 0; ox < win.ow; ox++) {
          const T d = p.dz[s * p.m_out + (c * win.oh + oy) * win.ow + ox] / count;
          for (std::size_t ky = 0; ky < win.kh; ky++)
            for (std::size_t kx = 0; kx < win.kw; kx++)
              p.gin[0][s * p.m_in + (c * win.h + oy * win.sh + ky) * win.w + ox * win.sw + kx] += d;
        }
}

}  // namespace

// Its check is check_pool (window.hpp), the same as maxpool2d's.
template <class T>
Kind<T> avgpool2d() {
  return {.check = check_pool, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> avgpool2d();
template Kind<double> avgpool2d();

}  // namespace castnet::interp::kinds
