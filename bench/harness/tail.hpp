// The tail workload: every batch-1 call timed on its own, the thread pinned to one CPU, with the
// caches warm and with the model's memory flushed from them before each call (the cold case a
// plugin meets after other work), then p50, p99, p99.9, p99.99 and max. Compiled into the runner,
// so the call is inlined into the timing loop as in the latency workload; suite.cpp prints the table.
#pragma once

#include <link.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "suite.hpp"

namespace castnet::bench {

// The clock: the time-stamp counter on x86 (invariant on every CPU castnet runs on: constant_tsc),
// fenced so that the call cannot start before the first read nor end after the second, and
// calibrated against steady_clock; elsewhere steady_clock itself (clock_gettime through the vDSO).
struct TailClock {
#if defined(__x86_64__) || defined(__i386__)
  static std::uint64_t begin() noexcept {
    _mm_lfence();
    const std::uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
  }
  static std::uint64_t end() noexcept {
    unsigned aux = 0;
    const std::uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
  }
  static constexpr const char* kName = "rdtsc";
#else
  static std::uint64_t begin() noexcept { return now(); }
  static std::uint64_t end() noexcept { return now(); }
  static std::uint64_t now() noexcept {
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  static constexpr const char* kName = "steady_clock";
#endif
  // Ticks per nanosecond: ticks over 50 ms of steady_clock.
  static double ticks_per_ns() {
    using C = std::chrono::steady_clock;
    const auto t0 = C::now();
    const std::uint64_t c0 = begin();
    while (C::now() - t0 < std::chrono::milliseconds(50)) {
    }
    const std::uint64_t c1 = end();
    const auto t1 = C::now();
    return static_cast<double>(c1 - c0) / static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
};

// The smallest difference seen between two reads of the clock that differ, in ticks: its
// resolution, or the cost of a read where that is larger. Under a hypervisor the counter may move
// in coarse steps, which then quantise every figure.
inline std::uint64_t clock_step() noexcept {
  std::uint64_t step = UINT64_MAX;
  for (int i = 0; i < 1000; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    const std::uint64_t a = __rdtsc();
    std::uint64_t b = __rdtsc();
    while (b == a) b = __rdtsc();
#else
    const std::uint64_t a = TailClock::now();
    std::uint64_t b = TailClock::now();
    while (b == a) b = TailClock::now();
#endif
    step = std::min(step, b - a);
  }
  return step;
}

// Memory to evict before each cold call: (address, bytes) ranges.
struct Span {
  const void* p;
  std::size_t bytes;
};

// Writes every cache line of the ranges back and out of every cache level (clflush), then waits
// for them (mfence). Elsewhere than x86 nothing: the cold rows say so.
inline void flush(const std::vector<Span>& spans) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  for (const Span& s : spans) {
    const char* p = static_cast<const char*>(s.p);
    for (std::size_t i = 0; i < s.bytes; i += 64) _mm_clflush(p + i);
  }
  _mm_mfence();
#else
  (void)spans;
#endif
}
inline constexpr bool kCanFlush =
#if defined(__x86_64__) || defined(__i386__)
    true;
#else
    false;
#endif

// The program's own data segments (those of its loadable segments that are not code): where an
// exported header's baked-in weights are, beside the rest of the program's static data.
inline std::vector<Span> static_data() {
  std::vector<Span> out;
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* to) {
        auto& spans = *static_cast<std::vector<Span>*>(to);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& h = info->dlpi_phdr[i];
          if (h.p_type == PT_LOAD && !(h.p_flags & PF_X))
            spans.push_back({reinterpret_cast<const void*>(info->dlpi_addr + h.p_vaddr), h.p_memsz});
        }
        return 1;  // the program is the first object; its libraries are not the model's
      },
      &out);
  return out;
}

// Pins the calling thread to the CPU it is on for its lifetime, then restores its CPU set.
class PinnedThread {
 public:
  PinnedThread() {
    has_old_ = ::sched_getaffinity(0, sizeof old_, &old_) == 0;
    cpu_ = ::sched_getcpu();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu_, &one);
    pinned_ = cpu_ >= 0 && ::sched_setaffinity(0, sizeof one, &one) == 0;
  }
  ~PinnedThread() {
    if (has_old_) ::sched_setaffinity(0, sizeof old_, &old_);
  }
  PinnedThread(const PinnedThread&) = delete;
  PinnedThread& operator=(const PinnedThread&) = delete;
  int cpu() const { return pinned_ ? cpu_ : -1; }

 private:
  cpu_set_t old_;
  bool has_old_ = false, pinned_ = false;
  int cpu_ = -1;
};

// Nearest-rank percentiles of the calls' ticks, in nanoseconds.
inline TailStats tail_stats(std::vector<std::uint32_t> ticks, double ticks_per_ns) {
  TailStats s;
  s.calls = ticks.size();
  if (ticks.empty()) return s;
  std::sort(ticks.begin(), ticks.end());
  auto at = [&](double q) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ticks.size())));
    return static_cast<double>(ticks[std::clamp<std::size_t>(rank, 1, ticks.size()) - 1]) / ticks_per_ns;
  };
  s.p50 = at(0.5);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.p9999 = at(0.9999);
  s.max = static_cast<double>(ticks.back()) / ticks_per_ns;
  return s;
}

// The stack below the timing loop that a cold call's frame may use (its planned arena and spills):
// flushed with the model's memory. Touched first, so that every page of it is mapped.
inline constexpr std::size_t kTailStackWindow = 64 * 1024;
[[gnu::noinline]] inline void touch_stack() noexcept {
  char window[kTailStackWindow];
  for (std::size_t i = 0; i < kTailStackWindow; i += 4096) window[i] = 0;
  asm volatile("" : : "r"(window) : "memory");  // the writes stay, so every page gets mapped
}

// Times `call` alone, `calls` times or for `seconds`, whichever ends first (after 1% as many
// untimed calls to warm up), each call's ticks recorded. Cold (`spans` not empty): before each
// call, `spans` and kTailStackWindow bytes of stack below this frame are flushed, outside the timed
// interval.
template <class Call>
std::vector<std::uint32_t> time_each(Call&& call, std::size_t calls, double seconds, std::vector<Span> spans) {
  touch_stack();
  char here = 0;
  asm volatile("" : : "r"(&here) : "memory");
  if (!spans.empty())
    spans.push_back({reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(&here) - kTailStackWindow), kTailStackWindow});
  for (std::size_t i = 0; i < calls / 100 + 1; ++i) call();
  std::vector<std::uint32_t> ticks;
  ticks.reserve(calls);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (std::size_t i = 0; i < calls; ++i) {
    if (!spans.empty()) flush(spans);
    const std::uint64_t t0 = TailClock::begin();
    // Barriers: the call reads its inputs and writes its outputs anew every time.
    asm volatile("" : : : "memory");
    call();
    asm volatile("" : : : "memory");
    const std::uint64_t t1 = TailClock::end();
    ticks.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(t1 - t0, UINT32_MAX)));
    // Checking the deadline every 1024 calls keeps steady_clock out of the timed calls' way.
    if ((i & 1023) == 1023 && std::chrono::steady_clock::now() > deadline) break;
  }
  return ticks;
}

}  // namespace castnet::bench
