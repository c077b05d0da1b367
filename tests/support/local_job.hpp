// The ranks of an MPI job played by threads of one process, for testing the trainer's
// distributed path without MPI: LocalJob(n).rank(r) is rank r's castnet::Collective. Sums and
// gathers go through shared memory, adding in rank order as one deterministic reduction would.
#pragma once

#include <castnet/train/collective.hpp>

#include <algorithm>
#include <barrier>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace castnet::test {

class LocalJob {
 public:
  explicit LocalJob(std::size_t ranks) : sync_(static_cast<std::ptrdiff_t>(ranks)), slots_(ranks), values_(ranks) {
    for (std::size_t r = 0; r < ranks; ++r) ranks_.push_back(std::make_unique<Rank>(*this, r));
  }
  Collective& rank(std::size_t r) { return *ranks_[r]; }

 private:
  class Rank final : public Collective {
   public:
    Rank(LocalJob& job, std::size_t rank) : job_(job), rank_(rank) {}
    std::size_t rank() const override { return rank_; }
    std::size_t size() const override { return job_.slots_.size(); }
    void sum(float* data, std::size_t n) override { add(data, n); }
    void sum(double* data, std::size_t n) override { add(data, n); }
    std::vector<std::uint64_t> gather(std::uint64_t value) override {
      job_.values_[rank_] = value;
      job_.sync_.arrive_and_wait();
      std::vector<std::uint64_t> all = job_.values_;
      job_.sync_.arrive_and_wait();  // everyone has read before anyone writes again
      return all;
    }
    [[noreturn]] void abort(int) override { std::abort(); }

   private:
    template <class T>
    void add(T* data, std::size_t n) {
      job_.slots_[rank_] = data;
      job_.sync_.arrive_and_wait();
      std::vector<T> total(n, T(0));
      for (const void* slot : job_.slots_)
        for (std::size_t j = 0; j < n; ++j) total[j] += static_cast<const T*>(slot)[j];
      job_.sync_.arrive_and_wait();  // every rank has read every buffer
      std::copy(total.begin(), total.end(), data);
    }

    LocalJob& job_;
    std::size_t rank_;
  };

  std::barrier<> sync_;
  std::vector<const void*> slots_;
  std::vector<std::uint64_t> values_;
  std::vector<std::unique_ptr<Rank>> ranks_;
};

}  // namespace castnet::test
