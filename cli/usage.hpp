// What `castnet --help` and `castnet VERB --help` print: the verbs in one screen, and each verb's
// every option.
#pragma once

#include <string>
#include <string_view>

namespace castnet::cli {

// One line per verb.
extern const char* const kOverview;

// The whole usage of `verb`, every option with its default; empty for an unknown verb.
std::string verb_usage(std::string_view verb);

}  // namespace castnet::cli
