// Lookup of embedded templates by name.
#include "emit/templates.hpp"

#include <stdexcept>
#include <string>

namespace castnet::gen {

std::string_view template_text(std::string_view name) {
  for (const auto& t : embedded_templates())
    if (t.name == name) return t.text;
  throw std::logic_error("no embedded template named " + std::string(name));
}

}  // namespace castnet::gen
