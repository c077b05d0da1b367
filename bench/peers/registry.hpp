// The peers this build has, made for one graph: Eigen and libtorch at 1 and 2 threads, or the reason
// one is missing (not installed when castnet was built, or a layer kind it does not implement).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "peer.hpp"

namespace castnet::bench {

struct PeerEntry {
  std::string family;              // "eigen", "torch": what --contenders selects
  std::string label;               // "Eigen 1T": the table's row
  std::unique_ptr<Peer> peer;      // null: not available, see why
  std::string why;
  std::function<void()> activate;  // sets the library's thread count; call before timing
};

// training: the peers will run train_step too (some refuse, e.g. dropout, whose masks they cannot
// reproduce).
std::vector<PeerEntry> make_peers(const ir::Graph& g, bool training);

// The peers' library versions, and which BLAS libtorch runs on.
std::string peer_versions();

}  // namespace castnet::bench
