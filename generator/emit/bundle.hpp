// The kernel headers an exported header carries: runtime/include/castnet/kernels/, embedded in
// the generator at build time, pasted in dependency order with their includes of one another
// resolved (each within a guard, as the preprocessor would include it), so the exported header
// runs the very kernels training runs and needs no castnet installation. Their system includes
// stay where they are, under their #if conditions.
#pragma once

#include <string>
#include <vector>

namespace castnet::gen {

struct Bundle {
  std::string text;                  // the headers' code, one after another
  std::vector<std::string> macros;   // the macros that code defines (its guards too), in order
};

// `headers` are names under castnet/kernels/ ("dense.hpp"). Each header comes once, after those it
// includes. A header that includes anything of castnet's outside kernels/, or a name that is not
// embedded, is a generator bug (std::logic_error).
Bundle bundle_kernels(const std::vector<std::string>& headers);

}  // namespace castnet::gen
