// The generator's limits as --limit and CASTNET_LIMITS set them (ir/limits.hpp), and the
// saturating arithmetic that keeps shape products from wrapping.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "ir/graph.hpp"
#include "ir/limits.hpp"

using castnet::ir::Limits;
using castnet::ir::parse_limits;

TEST_CASE("limits: settings apply in order over a base, in three notations") {
  const Limits l = parse_limits("params=1e9,layers=2^12,units=1000,units=2000", {});
  CHECK(l.params == 1'000'000'000);
  CHECK(l.layers == 4096);
  CHECK(l.units == 2000);  // the last setting wins
  CHECK(l.batch == Limits{}.batch);
  CHECK(parse_limits("batch=7", l).params == 1'000'000'000);
  for (const auto& info : castnet::ir::limit_table()) {
    INFO(info.key);
    CHECK(Limits{}.*(info.value) <= info.ceiling);
    CHECK((parse_limits(std::string(info.key) + "=" + std::to_string(info.ceiling), {}).*(info.value)) == info.ceiling);
    CHECK_THROWS_AS(parse_limits(std::string(info.key) + "=" + std::to_string(info.ceiling + 1), {}), std::invalid_argument);
  }
}

TEST_CASE("limits: malformed settings are rejected") {
  for (const char* bad : {"", "units", "units=", "=5", "units=0", "units=-3", "units=+3", "units=1.5", "units=2^", "units=2^63",
                          "units=1e", "units=e5", "units=1e19", "units=0x10", "units=5,", ",units=5", "units= 5", "Units=5"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_limits(bad, {}), std::invalid_argument);
  }
}

TEST_CASE("limits: shape products saturate instead of wrapping") {
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  CHECK(castnet::ir::sat_mul(1ull << 32, 1ull << 32) == max);
  CHECK(castnet::ir::sat_mul(1ull << 31, 1ull << 32) == 1ull << 63);
  CHECK(castnet::ir::sat_add(max - 1, 2) == max);
  CHECK(castnet::ir::elements({65536, 65536, 65536, 65536}) == max);
  CHECK(castnet::ir::elements({65536, 65536, 65536}) == 1ull << 48);
}
