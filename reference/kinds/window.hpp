// The sliding window that conv2d, maxpool2d and avgpool2d share: its geometry and its checks.
#pragma once

#include <cstddef>

#include "reference/kind.hpp"

namespace castnet::interp {

// The geometry of a sliding window over an input [C, H, W]: kernel (KH, KW), stride (SH, SW), zero
// padding (PH, PW) on each side (0 for the pools), and the output's
// OH = (H + 2 PH - KH) / SH + 1, OW = (W + 2 PW - KW) / SW + 1 (floor). check_window has checked
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

// The input is [C, H, W], the kernel and the stride are at least 1, and the kernel fits the padded
// input: what Window needs.
inline void check_window(const Check& c) {
  const ir::Layer& layer = c.layer;
  const ir::Shape& s0 = c.in_shapes[0];
  require(s0.size() == 3, c.what + " needs an input [C, H, W], not " + ir::shape_text(s0));
  require(layer.kernel[0] > 0 && layer.kernel[1] > 0 && layer.stride[0] > 0 && layer.stride[1] > 0,
          c.what + " needs a kernel and a stride of at least 1");
  require(s0[1] + 2 * layer.padding[0] >= layer.kernel[0] && s0[2] + 2 * layer.padding[1] >= layer.kernel[1],
          c.what + ": its kernel " + ir::shape_text({layer.kernel[0], layer.kernel[1]}) +
              " is larger than its padded input " +
              ir::shape_text({s0[1] + 2 * layer.padding[0], s0[2] + 2 * layer.padding[1]}));
}

// A pool: a window with no params and no padding, whose output keeps the input's channels.
inline void check_pool(const Check& c) {
  check_window(c);
  const Window win(c.layer, c.in_shapes[0]);
  require(c.layer.params.empty() && c.layer.padding[0] == 0 && c.layer.padding[1] == 0,
          c.what + " must have no params and no padding");
  c.expect_out({win.c, win.oh, win.ow});
}

}  // namespace castnet::interp
