// The weak symbols in nm's output (`nm --defined-only -C`), for the instruction-set tests: W and V,
// weak functions and objects, and u, GNU unique objects, which the linker merges the same way. The
// linker keeps one copy of each for the whole program, so two instruction sets' objects must not
// share one.
#pragma once

#include <algorithm>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace castnet::test {

inline std::set<std::string> weak_symbols_in(const std::string& nm_output) {
  std::set<std::string> weak;
  std::istringstream lines(nm_output);
  for (std::string line; std::getline(lines, line);) {
    // "<address> <type> <name>", the name possibly holding spaces
    const auto a = line.find(' ');
    if (a == std::string::npos || a + 3 > line.size()) continue;
    const char type = line[a + 1];
    if (type == 'W' || type == 'V' || type == 'u') weak.insert(line.substr(a + 3));
  }
  return weak;
}

// The symbols both sets hold but GCC's pointer to the C++ personality routine (DW.ref.
// __gxx_personality_v0), data holding an address, the same in every object whatever its
// instruction set.
inline std::vector<std::string> shared_weak(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::vector<std::string> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  std::erase(both, "DW.ref.__gxx_personality_v0");
  return both;
}

}  // namespace castnet::test
