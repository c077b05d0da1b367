// The data-parallel trainer's thread team (castnet/train/worker_pool.hpp): every run calls f once per thread
// index, sync() separates the phases of a run, and the team survives many short runs, with
// spinning and with sleeping waits.
#include <castnet/train/worker_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

TEST_CASE("worker pool: run calls f(k) once for each of its threads, the caller as 0") {
  for (const std::size_t n : {1u, 2u, 3u, 8u}) {
    castnet::WorkerPool pool(n);
    REQUIRE(pool.size() == n);
    std::vector<std::atomic<int>> calls(n);
    std::vector<std::thread::id> who(n);
    pool.run([&](std::size_t k) {
      ++calls[k];
      who[k] = std::this_thread::get_id();
    });
    for (std::size_t k = 0; k < n; ++k) CHECK(calls[k] == 1);
    CHECK(who[0] == std::this_thread::get_id());
    for (std::size_t k = 1; k < n; ++k) CHECK(who[k] != who[0]);
  }
  CHECK(castnet::WorkerPool(0).size() == 1);
}

TEST_CASE("worker pool: sync() lets a phase read what every thread wrote before it, over many runs") {
  constexpr std::size_t kThreads = 3, kRuns = 20000;
  castnet::WorkerPool pool(kThreads);
  std::vector<std::size_t> written(kThreads, 0);
  std::size_t wrong = 0;
  std::vector<std::size_t> wrong_by(kThreads, 0);
  for (std::size_t run = 1; run <= kRuns; ++run) {
    pool.run([&](std::size_t k) {
      written[k] = run * 10 + k;
      pool.sync();
      for (std::size_t j = 0; j < kThreads; ++j)
        if (written[j] != run * 10 + j) ++wrong_by[k];
      pool.sync();  // nobody writes the next value before everyone has read
    });
  }
  for (const std::size_t w : wrong_by) wrong += w;
  CHECK(wrong == 0);
}

TEST_CASE("spin barrier: waits that sleep (no spinning) and waits that outlast the spin both release") {
  for (const auto spin : {std::chrono::microseconds(0), std::chrono::microseconds(50)}) {
    castnet::SpinBarrier barrier(2, spin);
    std::atomic<int> phase{0};
    std::thread other([&] {
      for (int i = 0; i < 200; ++i) {
        barrier.arrive_and_wait();
        phase = i + 1;
        barrier.arrive_and_wait();
      }
    });
    for (int i = 0; i < 200; ++i) {
      if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the other one sleeps
      barrier.arrive_and_wait();
      barrier.arrive_and_wait();
      CHECK(phase == i + 1);
    }
    other.join();
  }
}
