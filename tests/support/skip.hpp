// Skipping a test case that cannot run here. Catch2 v2 has no skip: the case calls skip(why) and
// returns. skip() prints Catch's warning with the marker below as the first line of its message,
// and ctest reports the case as skipped only on that warning (tests/CMakeLists.txt registers the
// SKIP_REGULAR_EXPRESSION), so text such as "skipped: " in a failing case's output, or the marker
// in an INFO, leaves a failure a failure. Call it before any check: a case that fails and then
// skips is reported as skipped.
#pragma once

#include <catch2/catch.hpp>

#include <string>

namespace castnet::test {

// What follows "warning:\n  " in Catch's console output; tests/CMakeLists.txt matches both.
inline constexpr const char* kSkipMarker = "castnet::test::skip: ";

inline void skip(const std::string& why) { WARN(kSkipMarker << why); }

}  // namespace castnet::test
