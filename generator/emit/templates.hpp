// The text of templates/, embedded into the generator at build time (cmake/EmbedTemplates.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace castnet::gen {

struct EmbeddedTemplate {
  std::string_view name;  // path under templates/, e.g. "model.hpp.tmpl"
  std::string_view text;
};

const std::vector<EmbeddedTemplate>& embedded_templates();
std::string_view template_text(std::string_view name);  // throws std::logic_error if absent

}  // namespace castnet::gen
