// The processes of a data-parallel training job as the trainer sees them: a null Collective* is
// one process; otherwise the ranks of an MPI job (mpi.hpp; libcastnet_mpi, built where MPI is).
// Every rank runs the same trainer on the same data: each takes its shard of every global batch,
// the gradients are summed over the ranks, and every rank applies the same update, so the weights
// stay identical (the trainer checks a hash of them every epoch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace castnet {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual std::size_t rank() const = 0;
  virtual std::size_t size() const = 0;
  // Replaces data[0, n) on every rank by its sum over the ranks; every rank receives the same bits.
  virtual void sum(float* data, std::size_t n) = 0;
  virtual void sum(double* data, std::size_t n) = 0;
  // Every rank's `value`, in rank order.
  virtual std::vector<std::uint64_t> gather(std::uint64_t value) = 0;
  // Ends the whole job with exit code `code`: a rank that cannot go on must not leave the others
  // waiting for it.
  [[noreturn]] virtual void abort(int code) = 0;
};

}  // namespace castnet
