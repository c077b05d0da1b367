// Catch2 v2 has no main target: this translation unit provides it for every test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
