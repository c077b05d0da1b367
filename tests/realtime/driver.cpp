// castnet_rt_driver: runs the inference functions of generated models and of their exported headers
// inside the armed region of castnet_rt_guard (rt_guard.cpp), and, to prove the guard works, calls
// each function it guards there on purpose. realtime_test.cpp runs it as a child process under
// LD_PRELOAD, one check per run, since a hit aborts.
//
//   castnet_rt_driver --models | --proofs | --guarded   the names of the checks, the guard's functions
//   castnet_rt_driver model NAME                         NAME's calls, armed; exit 0 if none was hit
//   castnet_rt_driver proof FUNCTION                     calls FUNCTION armed: the guard must abort
#include <dlfcn.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <castnet/train/init.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "realtime_models.hpp"

namespace {

using Arm = void (*)(const char*);
using Disarm = void (*)();
Arm arm_guard = nullptr;
Disarm disarm_guard = nullptr;

// The guard's functions, from the preloaded library; false when it is not loaded (a run without it
// would pass whatever the models call).
bool find_guard() {
  arm_guard = reinterpret_cast<Arm>(::dlsym(RTLD_DEFAULT, "castnet_rt_guard_arm"));
  disarm_guard = reinterpret_cast<Disarm>(::dlsym(RTLD_DEFAULT, "castnet_rt_guard_disarm"));
  return arm_guard && disarm_guard;
}

template <class F>
void armed(const char* label, F&& f) {
  arm_guard(label);
  f();
  disarm_guard();
}

// Keeps a pointer (and what it points to) alive to the compiler, so that an allocation and its
// release are not folded away.
void sink(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

template <class T>
struct AlignedDelete {
  void operator()(T* p) const { ::operator delete(p, std::align_val_t(64)); }
};
// Model structs are large (Params, Workspace): on the heap, 64-byte aligned as they ask, and made
// before the armed region.
template <class T>
std::unique_ptr<T, AlignedDelete<T>> make() {
  return std::unique_ptr<T, AlignedDelete<T>>(new (::operator new(sizeof(T), std::align_val_t(64))) T());
}

std::vector<float> random_inputs(std::size_t n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Runs `call` (writing n floats to its argument) armed twice, its first call included (a real-time
// thread may make it), and disarmed once; the three outputs must be the same bits, so the armed
// calls did their work. Returns false, naming the call, when they differ.
template <class Call>
bool same_armed(const std::string& label, std::size_t n, Call call) {
  const float nan = std::nanf("");
  std::vector<float> first(n, nan), again(n, nan), plain(n, nan);
  armed(label.c_str(), [&] { call(first.data()); });
  call(plain.data());
  armed(label.c_str(), [&] { call(again.data()); });
  if (std::memcmp(first.data(), plain.data(), n * sizeof(float)) == 0 &&
      std::memcmp(again.data(), plain.data(), n * sizeof(float)) == 0)
    return true;
  std::cerr << "castnet_rt_driver: " << label << ": the armed calls' outputs differ from the same call's unarmed\n";
  return false;
}

// The checks of one spec: M its generated training header's Model, E its exported header
// (Exported<...> below). Batch 1 and the spec's batch, through both APIs, and the training step.
template <class M, class E>
int check_model(const std::string& name) {
  // The streaming API (State, reset, step, process) comes with issue 21. When a model here has it,
  // this stops the build: check reset/step/process armed below, as forward is, and add a
  // streamable spec (causal conv1d, gru, lstm) to tests/realtime/realtime.cmake.
  static_assert(!requires { typename M::State; }, "the model streams (issue 21): check step and process here too");

  constexpr std::size_t B = M::kBatch, In = M::kInputs, Out = M::kOutputs;
  auto p = make<typename M::Params>();
  castnet::init_params<M>(*p, 1);
  auto ws = make<typename M::Workspace>();
  auto grads = make<typename M::Grads>();
  // Three chunks of predict_batch's rows and one more: its partial last chunk too.
  constexpr std::size_t rows = 3 * B + 1;
  const std::vector<float> x = random_inputs(rows * In), target = random_inputs(B * M::kTargets);
  bool ok = true;
  ok &= same_armed(name + ": forward", Out, [&](float* y) { M::forward(*p, x.data(), y); });
  ok &= same_armed(name + ": forward_batch", B * Out, [&](float* y) { M::forward_batch(*p, *ws, x.data(), y); });
  ok &= same_armed(name + ": train_step", 1, [&](float* loss) { *loss = M::train_step(*p, *ws, x.data(), target.data(), *grads); });
  ok &= same_armed(name + ": predict", Out, [&](float* y) { E::predict(x.data(), y); });
  for (std::size_t n : {std::size_t{1}, B, rows})
    ok &= same_armed(name + ": predict_batch of " + std::to_string(n), n * Out, [&](float* y) { E::predict_batch(x.data(), y, n); });
  // Rows that start off a 64-byte boundary: predict_batch stages them on its stack.
  ok &= same_armed(name + ": predict_batch of " + std::to_string(B) + " unaligned", B * Out,
                   [&](float* y) { E::predict_batch(x.data() + 1, y, B); });
  if (ok) std::cout << name << ": forward, forward_batch, train_step, predict and predict_batch ran armed\n";
  return ok ? 0 : 1;
}

template <auto Predict, auto PredictBatch>
struct Exported {
  static void predict(const float* x, float* y) noexcept { Predict(x, y); }
  static void predict_batch(const float* x, float* y, std::size_t n) noexcept { PredictBatch(x, y, n); }
};

struct Check {
  const char* name;
  std::function<void()> call;  // calls the function `name` in the armed region
};

// One proof per function the guard catches, named as its reports name it: each calls it armed,
// with what it needs made beforehand.
std::vector<Check> proofs() {
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
  static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
  static pthread_spinlock_t spin;
  static sem_t sem;
  static timespec zero{0, 0};
  auto in = [](const char* name, auto f) { return Check{name, [name, f] { armed((std::string("proof: ") + name).c_str(), f); }}; };
  auto held = [](const char* name, auto take, auto f) {
    return Check{name, [name, take, f] {
                   take();
                   armed((std::string("proof: ") + name).c_str(), f);
                 }};
  };
  auto owned = [](const char* name, auto make_it, auto release) {
    return Check{name, [name, make_it, release] {
                   void* p = make_it();
                   sink(p);
                   armed((std::string("proof: ") + name).c_str(), [&] { release(p); });
                 }};
  };
  using std::align_val_t;
  constexpr align_val_t a64{64};
  return {
      in("malloc", [] { sink(std::malloc(16)); }),
      in("calloc", [] { sink(std::calloc(4, 4)); }),
      owned("realloc", [] { return std::malloc(16); }, [](void* p) { sink(std::realloc(p, 32)); }),
      owned("reallocarray", [] { return std::malloc(16); }, [](void* p) { sink(::reallocarray(p, 8, 4)); }),
      owned("free", [] { return std::malloc(16); }, [](void* p) { std::free(p); }),
      in("aligned_alloc", [] { sink(std::aligned_alloc(64, 64)); }),
      in("posix_memalign", [] {
        void* p = nullptr;
        sink(&p);
        if (::posix_memalign(&p, 64, 64) == 0) sink(p);
      }),
      in("memalign", [] { sink(::memalign(64, 64)); }),
      in("valloc", [] { sink(::valloc(64)); }),
      in("pvalloc", [] { sink(::pvalloc(64)); }),
      in("operator new(std::size_t)", [] { sink(::operator new(16)); }),
      in("operator new[](std::size_t)", [] { sink(::operator new[](16)); }),
      in("operator new(std::size_t, std::nothrow_t)", [] { sink(::operator new(16, std::nothrow)); }),
      in("operator new[](std::size_t, std::nothrow_t)", [] { sink(::operator new[](16, std::nothrow)); }),
      in("operator new(std::size_t, std::align_val_t)", [] { sink(::operator new(64, a64)); }),
      in("operator new[](std::size_t, std::align_val_t)", [] { sink(::operator new[](64, a64)); }),
      in("operator new(std::size_t, std::align_val_t, std::nothrow_t)", [] { sink(::operator new(64, a64, std::nothrow)); }),
      in("operator new[](std::size_t, std::align_val_t, std::nothrow_t)",
         [] { sink(::operator new[](64, a64, std::nothrow)); }),
      owned("operator delete(void*)", [] { return ::operator new(16); }, [](void* p) { ::operator delete(p); }),
      owned("operator delete[](void*)", [] { return ::operator new[](16); }, [](void* p) { ::operator delete[](p); }),
      owned("operator delete(void*, std::size_t)", [] { return ::operator new(16); }, [](void* p) { ::operator delete(p, 16); }),
      owned("operator delete[](void*, std::size_t)", [] { return ::operator new[](16); },
            [](void* p) { ::operator delete[](p, 16); }),
      owned("operator delete(void*, std::nothrow_t)", [] { return ::operator new(16, std::nothrow); },
            [](void* p) { ::operator delete(p, std::nothrow); }),
      owned("operator delete[](void*, std::nothrow_t)", [] { return ::operator new[](16, std::nothrow); },
            [](void* p) { ::operator delete[](p, std::nothrow); }),
      owned("operator delete(void*, std::align_val_t)", [] { return ::operator new(64, a64); },
            [](void* p) { ::operator delete(p, a64); }),
      owned("operator delete[](void*, std::align_val_t)", [] { return ::operator new[](64, a64); },
            [](void* p) { ::operator delete[](p, a64); }),
      owned("operator delete(void*, std::size_t, std::align_val_t)", [] { return ::operator new(64, a64); },
            [](void* p) { ::operator delete(p, 64, a64); }),
      owned("operator delete[](void*, std::size_t, std::align_val_t)", [] { return ::operator new[](64, a64); },
            [](void* p) { ::operator delete[](p, 64, a64); }),
      owned("operator delete(void*, std::align_val_t, std::nothrow_t)", [] { return ::operator new(64, a64, std::nothrow); },
            [](void* p) { ::operator delete(p, a64, std::nothrow); }),
      owned("operator delete[](void*, std::align_val_t, std::nothrow_t)",
            [] { return ::operator new[](64, a64, std::nothrow); }, [](void* p) { ::operator delete[](p, a64, std::nothrow); }),
      in("pthread_mutex_lock", [] { ::pthread_mutex_lock(&mutex); }),
      in("pthread_mutex_trylock", [] { ::pthread_mutex_trylock(&mutex); }),
      in("pthread_mutex_timedlock", [] { ::pthread_mutex_timedlock(&mutex, &zero); }),
      held("pthread_mutex_unlock", [] { ::pthread_mutex_lock(&mutex); }, [] { ::pthread_mutex_unlock(&mutex); }),
      in("pthread_rwlock_rdlock", [] { ::pthread_rwlock_rdlock(&rwlock); }),
      in("pthread_rwlock_wrlock", [] { ::pthread_rwlock_wrlock(&rwlock); }),
      held("pthread_rwlock_unlock", [] { ::pthread_rwlock_rdlock(&rwlock); }, [] { ::pthread_rwlock_unlock(&rwlock); }),
      held("pthread_cond_wait", [] { ::pthread_mutex_lock(&mutex); }, [] { ::pthread_cond_wait(&cond, &mutex); }),
      held("pthread_cond_timedwait", [] { ::pthread_mutex_lock(&mutex); }, [] { ::pthread_cond_timedwait(&cond, &mutex, &zero); }),
      in("pthread_cond_signal", [] { ::pthread_cond_signal(&cond); }),
      in("pthread_cond_broadcast", [] { ::pthread_cond_broadcast(&cond); }),
      held("pthread_spin_lock", [] { ::pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE); }, [] { ::pthread_spin_lock(&spin); }),
      held("sem_wait", [] { ::sem_init(&sem, 0, 1); }, [] { ::sem_wait(&sem); }),
      held("sem_timedwait", [] { ::sem_init(&sem, 0, 1); }, [] { ::sem_timedwait(&sem, &zero); }),
      held("sem_post", [] { ::sem_init(&sem, 0, 0); }, [] { ::sem_post(&sem); }),
      in("nanosleep", [] { ::nanosleep(&zero, nullptr); }),
      in("clock_nanosleep", [] { ::clock_nanosleep(CLOCK_MONOTONIC, 0, &zero, nullptr); }),
      in("usleep", [] { ::usleep(0); }),
      in("sleep", [] { ::sleep(0); }),
      in("sched_yield", [] { ::sched_yield(); }),
      in("read", [] {
        char c = 0;
        sink(&c);
        if (::read(-1, &c, 0) < 0) sink(&c);
      }),
      in("write", [] {
        if (::write(-1, "", 0) < 0) sink(nullptr);
      }),
      in("poll", [] { ::poll(nullptr, 0, 0); }),
      in("select", [] {
        timeval t{0, 0};
        ::select(0, nullptr, nullptr, nullptr, &t);
      }),
      in("syscall", [] { ::syscall(SYS_getpid); }),
  };
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::pair<std::string, std::function<int()>>> models = {
#define CASTNET_RT_CHECK(ns)                                                          \
  {#ns, [] {                                                                          \
     return check_model<ns::Model, Exported<&ns##_export::predict, &ns##_export::predict_batch>>(#ns); \
   }},
      CASTNET_RT_MODELS(CASTNET_RT_CHECK)
#undef CASTNET_RT_CHECK
  };
  const std::string_view what = argc > 1 ? argv[1] : "";
  if (what == "--models") {
    for (const auto& m : models) std::cout << m.first << "\n";
    return 0;
  }
  if (what == "--proofs") {
    for (const auto& p : proofs()) std::cout << p.name << "\n";
    return 0;
  }
  if (!find_guard()) {
    std::cerr << "castnet_rt_driver: castnet_rt_guard is not loaded; run me with LD_PRELOAD=<its libcastnet_rt_guard.so>\n";
    return 1;
  }
  if (what == "--guarded") {
    using List = const char* const* (*)();
    const auto list = reinterpret_cast<List>(::dlsym(RTLD_DEFAULT, "castnet_rt_guard_functions"));
    for (auto f = list ? list() : nullptr; f && *f; ++f) std::cout << *f << "\n";
    return list ? 0 : 1;
  }
  if (argc == 3 && what == "model")
    for (const auto& m : models)
      if (m.first == argv[2]) return m.second();
  if (argc == 3 && what == "proof")
    for (const auto& p : proofs())
      if (p.name == std::string_view(argv[2])) {
        p.call();
        std::cerr << "castnet_rt_driver: proof " << p.name << ": the guard let the call through\n";
        return 1;
      }
  std::cerr << "usage: castnet_rt_driver --models | --proofs | --guarded | model NAME | proof FUNCTION\n";
  return 2;
}
