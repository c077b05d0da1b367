// The instruction sets `castnet gen --arch` targets, and what a header generated for one checks.
// cmake/CastnetAddModel.cmake's castnet_arch_flags() gives build_flags: keep the two lists in step.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace castnet::gen {

struct Arch {
  std::string_view name;       // as --arch and castnet_add_model(... ARCH) spell it
  std::string_view condition;  // preprocessor test that the translation unit targets it; empty: none
  std::string_view flags;      // the g++/clang++ flags that target it
  // What castnet_add_model's ARCH adds to a target: the flags that select it even beside
  // -march=native (-mno-* keep the width), or the define that selects the scalar kernels.
  std::string_view build_flags;
};

// nullptr when `name` is none of arch_names().
const Arch* find_arch(std::string_view name);
// "native|avx512|avx2|sse4|neon|scalar", for messages.
std::string arch_names();
// The instruction sets --arch dispatch builds a unit for: every x86-64 and AArch64 one but native.
// Keep in step with templates/dispatch.cpp.tmpl (how each is detected) and castnet_add_model.
std::span<const std::string_view> dispatch_arches();

// What a unit of run-time dispatch for `arch` (one of dispatch_arches() but scalar, whose unit
// defines its kernels' macro instead) checks first: that it is compiled with its flags, else an
// #error naming them. Ends with a newline.
std::string dispatch_unit_guard(const std::string& ns, std::string_view arch);

}  // namespace castnet::gen
