// See registry.hpp.
#include "registry.hpp"

#include <cstdlib>

#if CASTNET_HAVE_EIGEN_PEER
#include "eigen_net.hpp"
#endif
#if CASTNET_HAVE_TORCH_PEER
#include "torch_net.hpp"
#endif

namespace castnet::bench {
namespace {

// OpenBLAS reads OPENBLAS_CORETYPE when it loads: rows measured under it say so.
std::string blas_note(const std::string& family) {
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  return family == "torch" && core && *core ? std::string(" (OPENBLAS_CORETYPE=") + core + ")" : "";
}

template <class Net>
void add(std::vector<PeerEntry>& out, const ir::Graph& g, bool training, const std::string& family,
         const std::string& name) {
  for (int threads : {1, 2}) {
    PeerEntry e{family, name + " " + std::to_string(threads) + "T" + blas_note(family), nullptr, "",
                [threads] { Net::set_threads(threads); }};
    std::string why;
    if (Net::supports(g, &why, training)) e.peer = std::make_unique<Net>(g);
    else e.why = why;
    out.push_back(std::move(e));
  }
}

[[maybe_unused]] void missing(std::vector<PeerEntry>& out, const std::string& family, const std::string& name, const std::string& why) {
  for (int threads : {1, 2}) out.push_back({family, name + " " + std::to_string(threads) + "T", nullptr, why, [] {}});
}

}  // namespace

std::vector<PeerEntry> make_peers([[maybe_unused]] const ir::Graph& g, [[maybe_unused]] bool training) {
  std::vector<PeerEntry> out;
#if CASTNET_HAVE_EIGEN_PEER
  add<EigenNet>(out, g, training, "eigen", "Eigen");
#else
  missing(out, "eigen", "Eigen", "castnet was built without Eigen (Debian: libeigen3-dev)");
#endif
#if CASTNET_HAVE_TORCH_PEER
  add<TorchNet>(out, g, training, "torch", "libtorch");
#else
  missing(out, "torch", "libtorch", "castnet was built without libtorch (Debian: libtorch-dev)");
#endif
  return out;
}

std::string peer_versions() {
  std::string v;
#if CASTNET_HAVE_EIGEN_PEER
  v += EigenNet::version();
#endif
#if CASTNET_HAVE_TORCH_PEER
  v += (v.empty() ? "" : "; ") + TorchNet::version();
#endif
  return v;
}

}  // namespace castnet::bench
