// spec::Spec -> spec TOML, the inverse of parse_spec for what `castnet import` produces: name,
// input, batch, the layers with their keys (each kind writes its own, OpDef::write), [loss], and
// [optimizer] type and lr. Everything else (the [train] and [data] settings) is left to the
// spec's defaults.
#pragma once

#include <string>
#include <vector>

#include "spec/spec.hpp"

namespace castnet::spec {

// `comments` open the file, one "# " line each; they are made printable (control and non-ASCII
// bytes as \xNN), since they may quote names taken from an untrusted file. Layer and spec names
// must be valid identifiers already (std::logic_error otherwise): they are written unescaped.
std::string write_spec(const Spec& s, const std::vector<std::string>& comments);

}  // namespace castnet::spec
