// castnet::connect_mpi (mpi.hpp): the Collective of an MPI job over MPI_COMM_WORLD.
#include <castnet/error.hpp>
#include <castnet/train/mpi.hpp>

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <string>

namespace castnet {
namespace {

class MpiCollective final : public Collective {
 public:
  MpiCollective(std::size_t rank, std::size_t size) : rank_(rank), size_(size) {}
  ~MpiCollective() override { MPI_Finalize(); }
  MpiCollective(const MpiCollective&) = delete;
  MpiCollective& operator=(const MpiCollective&) = delete;

  std::size_t rank() const override { return rank_; }
  std::size_t size() const override { return size_; }
  void sum(float* data, std::size_t n) override { sum_in_place(data, n, MPI_FLOAT); }
  void sum(double* data, std::size_t n) override { sum_in_place(data, n, MPI_DOUBLE); }

  std::vector<std::uint64_t> gather(std::uint64_t value) override {
    std::vector<std::uint64_t> all(size_);
    check(MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD), "MPI_Allgather");
    return all;
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest if it did
  }

 private:
  // MPI counts are ints: a buffer of more than INT_MAX values goes in pieces.
  template <class T>
  void sum_in_place(T* data, std::size_t n, MPI_Datatype type) {
    for (std::size_t done = 0; done < n;) {
      const std::size_t count = std::min<std::size_t>(n - done, INT_MAX);
      check(MPI_Allreduce(MPI_IN_PLACE, data + done, static_cast<int>(count), type, MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
      done += count;
    }
  }

  // MPI_COMM_WORLD's default handler aborts the job on an error; this catches a handler that returns.
  void check(int status, const char* what) {
    if (status == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, text, &length);
    throw Error("error: " + std::string(what) + " failed on rank " + std::to_string(rank_) + ": " +
                std::string(text, static_cast<std::size_t>(length)));
  }

  std::size_t rank_, size_;
};

}  // namespace

std::unique_ptr<Collective> connect_mpi(int& argc, char**& argv) {
  // Worker threads never call MPI: the thread that started it sums the gradients once they are
  // done (data_parallel.hpp), which is MPI_THREAD_FUNNELED.
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw Error("error: MPI could not start (MPI_Init_thread failed)");
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (provided < MPI_THREAD_FUNNELED) {
    // Every rank of one MPI library gets the same level: the first to see it ends the job.
    const char* const levels[] = {"MPI_THREAD_SINGLE", "MPI_THREAD_FUNNELED", "MPI_THREAD_SERIALIZED",
                                  "MPI_THREAD_MULTIPLE"};
    const std::string got = provided >= MPI_THREAD_SINGLE && provided <= MPI_THREAD_MULTIPLE
                                ? levels[provided - MPI_THREAD_SINGLE]
                                : "level " + std::to_string(provided);
    std::cerr << "rank " << rank << ": error: this MPI library provides " << got
              << " (MPI_Init_thread), castnet needs MPI_THREAD_FUNNELED: its worker threads run beside the "
                 "thread that calls MPI\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return std::make_unique<MpiCollective>(static_cast<std::size_t>(rank), static_cast<std::size_t>(size));
}

}  // namespace castnet
