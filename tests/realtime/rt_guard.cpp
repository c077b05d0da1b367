// castnet_rt_guard: an LD_PRELOAD library that fails loudly when the thread that armed it calls an
// allocator, a lock or a blocking call (README "Real-time evidence"; realtime_test.cpp runs the
// models' inference functions under it, and proves every function it guards is caught).
//
// Why LD_PRELOAD and not -Wl,--wrap: --wrap renames only the undefined references of the objects
// being linked, so a call made inside a shared library (libstdc++'s operator new calling malloc,
// an exception's allocation, anything in libm or libcastnet_runtime) would pass unseen. A preloaded
// library comes first in the process's symbol lookup, so it sees every call that goes through the
// dynamic linker, from any object, and the binary under test is the one users build. What neither
// sees: glibc's calls inside itself (printf's own lock, sleep calling nanosleep) and raw system
// call instructions; the functions a model could reach are caught at their entry.
//
// Armed per thread (castnet_rt_guard_arm/disarm, found by the caller with dlsym, so a program not
// run under the guard knows it): other threads, and the armed thread outside the region, go
// through to the real functions. A hit disarms, writes the function, the region's label and a
// backtrace to stderr, and aborts.
#include <dlfcn.h>
#include <execinfo.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <sched.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

// glibc's own allocator entry points: forwarding malloc through dlsym would recurse (dlsym may
// allocate), these do not.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
}

namespace {

// initial-exec: reading the flag must not itself call anything (a general-dynamic TLS access may
// allocate the first time).
thread_local bool armed __attribute__((tls_model("initial-exec"))) = false;
thread_local const char* label __attribute__((tls_model("initial-exec"))) = "";

void say(const char* text) {
  const std::size_t n = std::strlen(text);
  // The thread is disarmed here, so write() goes through to the real one.
  if (::write(2, text, n) < 0) return;
}

// Every hit ends here: disarmed first, so the report's own calls go through.
[[noreturn]] void hit(const char* function) {
  armed = false;
  say("castnet rt_guard: ");
  say(function);
  say(" called in the armed region '");
  say(label);
  say("'\n");
  void* frames[64];
  ::backtrace_symbols_fd(frames, ::backtrace(frames, 64), 2);
  std::abort();
}

// The next definition of a guarded function (libc's, libstdc++'s), looked up once.
template <class F>
F next(F& cached, const char* symbol) {
  if (!cached) cached = reinterpret_cast<F>(::dlsym(RTLD_NEXT, symbol));
  if (!cached) {
    say("castnet rt_guard: no next definition of ");
    say(symbol);
    say("\n");
    std::abort();
  }
  return cached;
}

}  // namespace

// What the guard catches, by the names its reports use: realtime_test.cpp checks that the driver
// proves each one is caught.
static const char* const kGuarded[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "aligned_alloc", "posix_memalign", "memalign",
    "valloc", "pvalloc",
    "operator new(std::size_t)", "operator new[](std::size_t)",
    "operator new(std::size_t, std::nothrow_t)", "operator new[](std::size_t, std::nothrow_t)",
    "operator new(std::size_t, std::align_val_t)", "operator new[](std::size_t, std::align_val_t)",
    "operator new(std::size_t, std::align_val_t, std::nothrow_t)",
    "operator new[](std::size_t, std::align_val_t, std::nothrow_t)",
    "operator delete(void*)", "operator delete[](void*)",
    "operator delete(void*, std::size_t)", "operator delete[](void*, std::size_t)",
    "operator delete(void*, std::nothrow_t)", "operator delete[](void*, std::nothrow_t)",
    "operator delete(void*, std::align_val_t)", "operator delete[](void*, std::align_val_t)",
    "operator delete(void*, std::size_t, std::align_val_t)", "operator delete[](void*, std::size_t, std::align_val_t)",
    "operator delete(void*, std::align_val_t, std::nothrow_t)",
    "operator delete[](void*, std::align_val_t, std::nothrow_t)",
    "pthread_mutex_lock", "pthread_mutex_trylock", "pthread_mutex_timedlock", "pthread_mutex_unlock",
    "pthread_rwlock_rdlock", "pthread_rwlock_wrlock", "pthread_rwlock_unlock",
    "pthread_cond_wait", "pthread_cond_timedwait", "pthread_cond_signal", "pthread_cond_broadcast",
    "pthread_spin_lock", "sem_wait", "sem_timedwait", "sem_post",
    "nanosleep", "clock_nanosleep", "usleep", "sleep", "sched_yield", "read", "write", "poll", "select",
    "syscall",
    nullptr};

extern "C" {

__attribute__((visibility("default"))) void castnet_rt_guard_arm(const char* region) {
  label = region;
  armed = true;
}
__attribute__((visibility("default"))) void castnet_rt_guard_disarm() { armed = false; }
__attribute__((visibility("default"))) const char* const* castnet_rt_guard_functions() { return kGuarded; }

// ---- the C allocator ----
void* malloc(std::size_t n) {
  if (armed) hit("malloc");
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  if (armed) hit("calloc");
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  if (armed) hit("realloc");
  return __libc_realloc(p, n);
}
void free(void* p) {
  if (armed) hit("free");
  __libc_free(p);
}
void* memalign(std::size_t align, std::size_t n) {
  if (armed) hit("memalign");
  return __libc_memalign(align, n);
}
void* valloc(std::size_t n) {
  if (armed) hit("valloc");
  return __libc_valloc(n);
}
void* pvalloc(std::size_t n) {
  if (armed) hit("pvalloc");
  return __libc_pvalloc(n);
}
}  // extern "C"

// The rest go through to the next definition (glibc's or libstdc++'s), so their checks of their
// arguments and their error codes stay the real ones.
#define CASTNET_GUARD(ret, name, params, args)            \
  extern "C" ret name params {                            \
    if (armed) hit(#name);                                \
    static ret(*real) params = nullptr;                   \
    return next(real, #name) args;                        \
  }
CASTNET_GUARD(void*, reallocarray, (void* p, std::size_t n, std::size_t size), (p, n, size))
CASTNET_GUARD(void*, aligned_alloc, (std::size_t align, std::size_t n), (align, n))
CASTNET_GUARD(int, posix_memalign, (void** p, std::size_t align, std::size_t n), (p, align, n))
CASTNET_GUARD(int, pthread_mutex_lock, (pthread_mutex_t* m), (m))
CASTNET_GUARD(int, pthread_mutex_trylock, (pthread_mutex_t* m), (m))
CASTNET_GUARD(int, pthread_mutex_timedlock, (pthread_mutex_t* m, const struct timespec* t), (m, t))
CASTNET_GUARD(int, pthread_mutex_unlock, (pthread_mutex_t* m), (m))
CASTNET_GUARD(int, pthread_rwlock_rdlock, (pthread_rwlock_t* l), (l))
CASTNET_GUARD(int, pthread_rwlock_wrlock, (pthread_rwlock_t* l), (l))
CASTNET_GUARD(int, pthread_rwlock_unlock, (pthread_rwlock_t* l), (l))
CASTNET_GUARD(int, pthread_cond_wait, (pthread_cond_t* c, pthread_mutex_t* m), (c, m))
CASTNET_GUARD(int, pthread_cond_timedwait, (pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* t), (c, m, t))
CASTNET_GUARD(int, pthread_cond_signal, (pthread_cond_t* c), (c))
CASTNET_GUARD(int, pthread_cond_broadcast, (pthread_cond_t* c), (c))
CASTNET_GUARD(int, pthread_spin_lock, (pthread_spinlock_t* s), (s))
CASTNET_GUARD(int, sem_wait, (sem_t* s), (s))
CASTNET_GUARD(int, sem_timedwait, (sem_t* s, const struct timespec* t), (s, t))
CASTNET_GUARD(int, sem_post, (sem_t* s), (s))
CASTNET_GUARD(int, nanosleep, (const struct timespec* t, struct timespec* rem), (t, rem))
CASTNET_GUARD(int, clock_nanosleep, (clockid_t c, int flags, const struct timespec* t, struct timespec* rem), (c, flags, t, rem))
CASTNET_GUARD(int, usleep, (useconds_t us), (us))
CASTNET_GUARD(unsigned, sleep, (unsigned s), (s))
CASTNET_GUARD(int, sched_yield, (), ())
CASTNET_GUARD(ssize_t, read, (int fd, void* buf, std::size_t n), (fd, buf, n))
CASTNET_GUARD(ssize_t, write, (int fd, const void* buf, std::size_t n), (fd, buf, n))
CASTNET_GUARD(int, poll, (struct pollfd* fds, nfds_t n, int timeout), (fds, n, timeout))
CASTNET_GUARD(int, select, (int n, fd_set* r, fd_set* w, fd_set* e, struct timeval* t), (n, r, w, e, t))
#undef CASTNET_GUARD

// syscall() is variadic: the six argument registers of the x86-64 and AArch64 ABIs pass through.
extern "C" long syscall(long number, ...) {
  if (armed) hit("syscall");
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  static long (*real)(long, ...) = nullptr;
  return next(real, "syscall")(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

// ---- the C++ allocation functions, every replaceable form ----
// `report` is the name kGuarded lists; `symbol` the mangled name of the next definition.
#define CASTNET_GUARD_OP(ret, name, report, symbol, params, args, spec) \
  ret name params spec {                                                \
    if (armed) hit(report);                                             \
    static ret(*real) params spec = nullptr;                            \
    return next(real, symbol) args;                                     \
  }
using std::align_val_t;
using std::nothrow_t;
using std::size_t;
CASTNET_GUARD_OP(void*, operator new, "operator new(std::size_t)", "_Znwm", (size_t n), (n), )
CASTNET_GUARD_OP(void*, operator new[], "operator new[](std::size_t)", "_Znam", (size_t n), (n), )
CASTNET_GUARD_OP(void*, operator new, "operator new(std::size_t, std::nothrow_t)", "_ZnwmRKSt9nothrow_t",
                 (size_t n, const nothrow_t& t), (n, t), noexcept)
CASTNET_GUARD_OP(void*, operator new[], "operator new[](std::size_t, std::nothrow_t)", "_ZnamRKSt9nothrow_t",
                 (size_t n, const nothrow_t& t), (n, t), noexcept)
CASTNET_GUARD_OP(void*, operator new, "operator new(std::size_t, std::align_val_t)", "_ZnwmSt11align_val_t",
                 (size_t n, align_val_t a), (n, a), )
CASTNET_GUARD_OP(void*, operator new[], "operator new[](std::size_t, std::align_val_t)", "_ZnamSt11align_val_t",
                 (size_t n, align_val_t a), (n, a), )
CASTNET_GUARD_OP(void*, operator new, "operator new(std::size_t, std::align_val_t, std::nothrow_t)",
                 "_ZnwmSt11align_val_tRKSt9nothrow_t", (size_t n, align_val_t a, const nothrow_t& t), (n, a, t), noexcept)
CASTNET_GUARD_OP(void*, operator new[], "operator new[](std::size_t, std::align_val_t, std::nothrow_t)",
                 "_ZnamSt11align_val_tRKSt9nothrow_t", (size_t n, align_val_t a, const nothrow_t& t), (n, a, t), noexcept)
CASTNET_GUARD_OP(void, operator delete, "operator delete(void*)", "_ZdlPv", (void* p), (p), noexcept)
CASTNET_GUARD_OP(void, operator delete[], "operator delete[](void*)", "_ZdaPv", (void* p), (p), noexcept)
CASTNET_GUARD_OP(void, operator delete, "operator delete(void*, std::size_t)", "_ZdlPvm", (void* p, size_t n), (p, n),
                 noexcept)
CASTNET_GUARD_OP(void, operator delete[], "operator delete[](void*, std::size_t)", "_ZdaPvm", (void* p, size_t n),
                 (p, n), noexcept)
CASTNET_GUARD_OP(void, operator delete, "operator delete(void*, std::nothrow_t)", "_ZdlPvRKSt9nothrow_t",
                 (void* p, const nothrow_t& t), (p, t), noexcept)
CASTNET_GUARD_OP(void, operator delete[], "operator delete[](void*, std::nothrow_t)", "_ZdaPvRKSt9nothrow_t",
                 (void* p, const nothrow_t& t), (p, t), noexcept)
CASTNET_GUARD_OP(void, operator delete, "operator delete(void*, std::align_val_t)", "_ZdlPvSt11align_val_t",
                 (void* p, align_val_t a), (p, a), noexcept)
CASTNET_GUARD_OP(void, operator delete[], "operator delete[](void*, std::align_val_t)", "_ZdaPvSt11align_val_t",
                 (void* p, align_val_t a), (p, a), noexcept)
CASTNET_GUARD_OP(void, operator delete, "operator delete(void*, std::size_t, std::align_val_t)",
                 "_ZdlPvmSt11align_val_t", (void* p, size_t n, align_val_t a), (p, n, a), noexcept)
CASTNET_GUARD_OP(void, operator delete[], "operator delete[](void*, std::size_t, std::align_val_t)",
                 "_ZdaPvmSt11align_val_t", (void* p, size_t n, align_val_t a), (p, n, a), noexcept)
CASTNET_GUARD_OP(void, operator delete, "operator delete(void*, std::align_val_t, std::nothrow_t)",
                 "_ZdlPvSt11align_val_tRKSt9nothrow_t", (void* p, align_val_t a, const nothrow_t& t), (p, a, t), noexcept)
CASTNET_GUARD_OP(void, operator delete[], "operator delete[](void*, std::align_val_t, std::nothrow_t)",
                 "_ZdaPvSt11align_val_tRKSt9nothrow_t", (void* p, align_val_t a, const nothrow_t& t), (p, a, t), noexcept)
#undef CASTNET_GUARD_OP
