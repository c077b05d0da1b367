// The helpers every kind's check shares (kind.hpp).
#include "reference/kind.hpp"

#include <stdexcept>

namespace castnet::interp {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("interpreter: " + what);
}

bool Check::params_are(const std::vector<ir::Shape>& shapes) const {
  if (layer.params.size() != shapes.size()) return false;
  for (std::size_t i = 0; i < shapes.size(); i++)
    if (layer.params[i].shape != shapes[i]) return false;
  return true;
}

void Check::expect_out(const ir::Shape& expected) const {
  require(layer.out_shape.empty() ? layer.out_features == ir::elements(expected) : layer.out_shape == expected,
          what + " outputs " + ir::shape_text(out_shape) + " but its formula gives " + ir::shape_text(expected));
}

void check_input_total(const Check& c) {
  std::size_t received = 0;
  for (auto s : c.in_sizes) received += s;
  require(received == c.layer.in_features, "layer '" + c.layer.name + "' reads " + std::to_string(c.layer.in_features) +
                                               " features but receives " + std::to_string(received));
}

}  // namespace castnet::interp
