// sha256_hex against the FIPS 180-2 / NIST example vectors and the padding boundaries (55, 56,
// 63, 64 bytes, where the length field does or does not fit in the last block), and
// sha256_file_hex against the in-memory digest, including a file larger than one read chunk.
#include <castnet/io/sha256.hpp>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace fs = std::filesystem;
using castnet::io::sha256_file_hex;
using castnet::io::sha256_hex;

TEST_CASE("sha256: FIPS test vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrs"
            "tnopqrstu") == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(sha256_hex(std::string(1'000'000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: padding boundaries") {
  CHECK(sha256_hex(std::string(55, 'a')) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(sha256_hex(std::string(56, 'a')) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(sha256_hex(std::string(63, 'a')) == "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  CHECK(sha256_hex(std::string(64, 'a')) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  CHECK(sha256_hex(std::string(65, 'a')) == "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0");
  CHECK(sha256_hex(std::string(119, 'a')) == "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
  CHECK(sha256_hex(std::string(120, 'a')) == "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
}

TEST_CASE("sha256: a file hashes like its contents, and an unreadable one throws") {
  const fs::path dir = fs::temp_directory_path() / ("castnet-sha256-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Removes the directory however the test ends.
  const std::unique_ptr<const fs::path, void (*)(const fs::path*)> cleanup(&dir, [](const fs::path* d) {
    std::error_code ignored;
    fs::remove_all(*d, ignored);
  });
  std::string bytes(300'000, '\0');  // several read chunks, with NULs and every byte value
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 % 256);
  const fs::path p = dir / "data.bin";
  std::ofstream(p, std::ios::binary) << bytes;
  std::ofstream(dir / "empty", std::ios::binary).flush();

  CHECK(sha256_file_hex(p) == sha256_hex(bytes));
  CHECK(sha256_file_hex(dir / "empty") == sha256_hex(""));
  REQUIRE_THROWS_AS(sha256_file_hex(dir / "absent"), std::runtime_error);
  REQUIRE_THROWS_WITH(sha256_file_hex(dir / "absent"), (dir / "absent").string() + ": error: cannot read");
  REQUIRE_THROWS_WITH(sha256_file_hex(dir), dir.string() + ": error: cannot read");
}
