// Generated source stays small whatever the layer sizes: conv and large dense layers are one call
// each into compile-time-sized kernels, so the MNIST ConvNet (two convs and a 3136-input dense
// layer, 8.5 MFLOP per sample) and the residual MLP emit tens of kilobytes, not megabytes.
#include <catch2/catch.hpp>

#include <filesystem>

#include "generate.hpp"

TEST_CASE("code size: the MNIST specs emit less than 64 KB of source", "[code_size]") {
  const std::filesystem::path root = CASTNET_SOURCE_DIR;
  for (const char* spec : {"specs/mnist_cnn.toml", "specs/residual_mlp.toml", "specs/mnist_mlp.toml"}) {
    castnet::gen::GenRequest req;
    req.spec = root / spec;
    const auto r = castnet::gen::emit_header(req);
    INFO(spec << ": " << r.header_text.size() << " bytes");
    CHECK(r.header_text.size() < 64 * 1024);
  }
}
