// A fixed team of threads for the data-parallel trainer: WorkerPool(n).run(f) calls f(0) on the
// calling thread and f(1) .. f(n - 1) on n - 1 workers started once, and returns when all have
// returned. A training step is a few such runs of a millisecond or less, so the threads meet at a
// SpinBarrier: it spins for a while before it sleeps, because waking a sleeping thread costs tens of
// microseconds (about 46 us here with std::barrier, a 2-thread XOR step's whole time).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace castnet {

class SpinBarrier {
 public:
  // `spin`: how long a waiting thread polls before it sleeps (0: sleep at once).
  SpinBarrier(std::size_t parties, std::chrono::microseconds spin) : parties_(parties), spin_(spin) {}

  void arrive_and_wait() noexcept {
    const std::uint32_t phase = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_) {
      // Reset before the release below: a thread that sees the new phase may arrive again at once.
      arrived_.store(0, std::memory_order_relaxed);
      phase_.store(phase + 1, std::memory_order_release);
      phase_.notify_all();
      return;
    }
    if (spin_.count() > 0) {
      const auto until = std::chrono::steady_clock::now() + spin_;
      for (std::uint32_t i = 1;; ++i) {
        if (phase_.load(std::memory_order_acquire) != phase) return;
        relax();
        if (i % 64 == 0 && std::chrono::steady_clock::now() > until) break;
      }
    }
    while (phase_.load(std::memory_order_acquire) == phase) phase_.wait(phase, std::memory_order_acquire);
  }

 private:
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  const std::size_t parties_;
  const std::chrono::microseconds spin_;
  std::atomic<std::size_t> arrived_{0};
  std::atomic<std::uint32_t> phase_{0};
};

// The cores this process may run on (mpirun binds each rank to some), else the machine's.
inline std::size_t usable_cores() noexcept {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<std::size_t>(CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads)
      : size_(threads < 1 ? 1 : threads),
        // More threads than cores: a spinning thread would hold the core another one needs.
        barrier_(size_, size_ <= usable_cores() ? std::chrono::microseconds(200) : std::chrono::microseconds(0)) {
    for (std::size_t k = 1; k < size_; ++k) workers_.emplace_back([this, k] { work(k); });
  }
  ~WorkerPool() {
    stop_ = true;
    if (size_ > 1) barrier_.arrive_and_wait();
    for (auto& w : workers_) w.join();
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::size_t size() const noexcept { return size_; }

  // f(k) on thread k = 0 (the caller) .. size() - 1. f must not throw. Inside f, sync() waits for
  // every thread to reach the same point.
  template <class F>
  void run(F&& f) {
    if (size_ == 1) {
      f(std::size_t{0});
      return;
    }
    context_ = &f;
    call_ = [](void* c, std::size_t k) { (*static_cast<std::remove_reference_t<F>*>(c))(k); };
    barrier_.arrive_and_wait();  // start
    f(std::size_t{0});
    barrier_.arrive_and_wait();  // every f has returned
  }

  void sync() noexcept {
    if (size_ > 1) barrier_.arrive_and_wait();
  }

 private:
  void work(std::size_t k) {
    for (;;) {
      barrier_.arrive_and_wait();
      if (stop_) return;
      call_(context_, k);
      barrier_.arrive_and_wait();
    }
  }

  const std::size_t size_;
  SpinBarrier barrier_;
  // Written by the caller before the start barrier, read by the workers after it.
  void* context_ = nullptr;
  void (*call_)(void*, std::size_t) = nullptr;
  bool stop_ = false;
  std::vector<std::thread> workers_;  // last: they start once everything above exists
};

}  // namespace castnet
