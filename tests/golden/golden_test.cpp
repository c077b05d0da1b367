// Goldens: regenerating each spec in tests/golden/specs must reproduce the checked-in header and
// IR dump in tests/golden/expected byte for byte (tools/update_goldens.sh is the only way they
// change), a second generation must leave the file untouched, and the banner must carry the
// spec's SHA-256. A few goldens lock the output of options (kVariants): each is checked the same
// way, and compiled like the others (tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "support/process.hpp"
#include <castnet/io/sha256.hpp>

namespace fs = std::filesystem;

TEST_CASE("golden: generated headers match the reviewed goldens, deterministically") {
  const fs::path root = CASTNET_SOURCE_DIR;
  const fs::path specs = root / "tests/golden/specs";
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator(specs)) {
    const std::string spec = entry.path().filename().string();
    const std::string header = entry.path().stem().string() + ".hpp";
    DYNAMIC_SECTION(spec) {
      castnet::test::TempDir out;
      const std::vector<std::string> cmd = {CASTNET_GEN_EXE, spec, "-o", out.path().string(), "--header-name", header};
      const auto first = castnet::test::run(cmd, specs);
      REQUIRE(first.exit_code == 0);
      const std::string text = castnet::test::read_file(out.path() / header);
      CHECK(text == castnet::test::read_file(root / "tests/golden/expected" / header));

      const std::string sha = castnet::io::sha256_file_hex(entry.path());
      CHECK(text.find("// spec sha256: " + sha + "\n") != std::string::npos);
      CHECK(text.find("DO NOT EDIT") != std::string::npos);

      const auto stamp = fs::last_write_time(out.path() / header);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      REQUIRE(castnet::test::run(cmd, specs).exit_code == 0);
      CHECK(fs::last_write_time(out.path() / header) == stamp);  // unchanged bytes: not rewritten
      CHECK(castnet::test::read_file(out.path() / header) == text);

      const auto ir = castnet::test::run({CASTNET_CLI_EXE, "check", spec, "--ir"}, specs);
      REQUIRE(ir.exit_code == 0);
      CHECK(ir.out == castnet::test::read_file(root / "tests/golden/expected" / (entry.path().stem().string() + ".ir.txt")));
    }
    ++n;
  }
  CHECK(n >= 2);
}

namespace {

// Generated with options; tools/update_goldens.sh writes the same list.
struct Variant {
  const char* spec;
  std::vector<std::string> options;
  const char* header;
};
const Variant kVariants[] = {
    {"xor.toml", {"--arch", "scalar"}, "xor_arch_scalar.hpp"},
    // The exported header: its skeleton, its weights and the kernels it carries.
    {"xor.toml", {"--weights", "../weights/xor.safetensors"}, "xor_export.hpp"},
};

}  // namespace

TEST_CASE("golden: headers generated with options match their goldens") {
  const fs::path root = CASTNET_SOURCE_DIR;
  const fs::path specs = root / "tests/golden/specs";
  for (const Variant& v : kVariants) {
    DYNAMIC_SECTION(v.header) {
      castnet::test::TempDir out;
      std::vector<std::string> cmd = {CASTNET_GEN_EXE, v.spec, "-o", out.path().string(), "--header-name", v.header};
      cmd.insert(cmd.end(), v.options.begin(), v.options.end());
      REQUIRE(castnet::test::run(cmd, specs).exit_code == 0);
      CHECK(castnet::test::read_file(out.path() / v.header) == castnet::test::read_file(root / "tests/golden/expected" / v.header));
    }
  }
}

// The guard an instruction set's header opens with names the flags that give it; an unknown one
// is a usage error.
TEST_CASE("golden: --arch guards") {
  const fs::path specs = fs::path(CASTNET_SOURCE_DIR) / "tests/golden/specs";
  castnet::test::TempDir out;
  const auto gen = [&](const std::string& arch) {
    return castnet::test::run({CASTNET_GEN_EXE, "xor.toml", "-o", out.path().string(), "--arch", arch}, specs);
  };
  REQUIRE(gen("avx2").exit_code == 0);
  const std::string text = castnet::test::read_file(out.path() / "xor_net.hpp");
  CHECK(text.find("// regenerate: castnet gen xor.toml -o <dir> --arch avx2\n") != std::string::npos);
  CHECK(text.find("#if !(defined(__AVX2__) && defined(__FMA__))\n#error \"model xor_net was generated with --arch "
                  "avx2: compile it with -mavx2 -mfma, or through castnet_add_model(... ARCH avx2)\"\n#endif\n") !=
        std::string::npos);
  CHECK(text.find("#include <array>") > text.find("#error"));

  const auto bad = gen("avx3");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--arch 'avx3': must be one of native|avx512|avx2|sse4|neon|scalar") != std::string::npos);
}
