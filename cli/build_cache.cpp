// See build_cache.hpp.
#include "build_cache.hpp"
#include "cache_dir.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <sstream>
#include <string_view>
#include <tuple>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <castnet/version.hpp>

#include "emit/arch.hpp"
#include "emit/code_writer.hpp"
#include "support/files.hpp"
#include <castnet/io/sha256.hpp>

namespace castnet::cli {
namespace fs = std::filesystem;
namespace {

struct Toolchain {
  fs::path include_dir;  // castnet runtime headers
  fs::path runtime_lib;  // libcastnet_runtime.a
  fs::path mpi_lib;      // libcastnet_mpi.so; empty if castnet was built without MPI
};

#ifdef CASTNET_BUILD_MPI_LIB
constexpr const char* kBuildMpiLib = CASTNET_BUILD_MPI_LIB;
#else
constexpr const char* kBuildMpiLib = "";
#endif

// What one runner is made of, besides the runtime: files written beside its main source (the
// generated headers), that source, and more include folders and (shared) libraries.
struct Program {
  std::string name;                                         // the cache folder's prefix
  std::vector<std::pair<std::string, std::string>> files;   // name, text; the first is the main source
  std::vector<fs::path> include_dirs;
  std::vector<fs::path> libs;
  std::string link_flags;                                   // after the libraries
  std::string compile_flags;                                // after the runners' flags: " -mavx2 ..."
  std::function<void()> before_compile;                     // build_runner's
  // Sources among `files` compiled on their own, each with its flags after compile_flags, and
  // linked in: the units of run-time dispatch.
  std::vector<std::pair<std::string, std::string>> units = {};
};

// An installed castnet keeps its headers and library at the GNUInstallDirs locations it was
// configured with, relative to the prefix the binary sits in (<prefix>/<bindir>/castnet); a build
// tree uses the paths CMake baked in. Absolute install dirs are used as they are.
Toolchain find_toolchain() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const fs::path bindir = fs::path(CASTNET_INSTALL_BINDIR).lexically_normal();
  if (!ec && bindir.is_relative()) {
    fs::path prefix = exe.parent_path();
    for (const auto& part : bindir)
      if (!part.empty() && part != ".") prefix = prefix.parent_path();
    const fs::path libdir = prefix / CASTNET_INSTALL_LIBDIR;
    Toolchain t{prefix / CASTNET_INSTALL_INCLUDEDIR, libdir / "libcastnet_runtime.a", libdir / "libcastnet_mpi.so"};
    if (!fs::exists(t.mpi_lib)) t.mpi_lib.clear();
    if (fs::exists(t.include_dir / "castnet" / "train" / "runner.hpp") && fs::exists(t.runtime_lib)) return t;
  }
  return {CASTNET_BUILD_INCLUDE_DIR, CASTNET_BUILD_RUNTIME_LIB, kBuildMpiLib};
}

// Empty if the file cannot be read.

// The runners are compiled with -march=native: the CPU they were built for is part of what goes
// into them. The "model name" and "flags" lines (x86) or "Features" and "CPU implementer/part"
// lines (ARM) of the first processor in /proc/cpuinfo; nothing if that cannot be read.
std::string cpu_identity() {
  std::ifstream in("/proc/cpuinfo");
  std::string id;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t") == std::string::npos) break;  // end of the first processor
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    if (key == "model name" || key == "flags" || key == "Features" || key == "CPU implementer" || key == "CPU part")
      id += line + "\n";
  }
  return id;
}

// The compiler the runners are built with, as its resolved path and what it says of its version:
// an upgrade of g++ behind the same /usr/bin/c++ makes other binaries.
std::string compiler_identity() {
  static const std::string id = [] {
    std::error_code ec;
    std::string text = fs::weakly_canonical(CASTNET_CXX, ec).string() + "\n";
    const std::string cmd = std::string("'") + CASTNET_CXX + "' --version 2>&1";
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
      ::pclose(p);
    }
    return text;
  }();
  return id;
}

// What the binary is made of besides the headers it includes: the compiler and its flags, the host
// CPU (when compiling for it), the program's own files, the include folders in their order, the
// libraries and the link flags. The headers are checked apart, after the compiler has said which
// ones it read (see Manifest).
std::string cache_key(const Toolchain& t, const Program& prog) {
  std::string material = compiler_identity() + CASTNET_RUNNER_FLAGS + prog.compile_flags + "\n" +
                         CASTNET_VERSION_STRING + "\n";
  if (std::string_view(CASTNET_RUNNER_FLAGS).find("-march=native") != std::string_view::npos)
    material += "cpu:\n" + cpu_identity();
  for (const auto& [name, text] : prog.files) material += name + io::sha256_hex(text);
  material += "include:" + t.include_dir.string() + "\n";
  for (const auto& dir : prog.include_dirs) material += "include:" + dir.string() + "\n";
  material += io::sha256_hex(support::read_file(t.runtime_lib));
  for (const auto& lib : prog.libs) material += io::sha256_hex(support::read_file(lib));
  material += "link:" + prog.link_flags + "\n";
  return io::sha256_hex(material);
}

// The headers a runner was compiled from, as the compiler listed them (-MD), each with its size,
// modification time and SHA-256, kept beside the runner: the runner is reused only while every one
// is unchanged. A header with another time but the same bytes (a reinstalled package) still
// matches; only the bytes are compared then.
class Manifest {
 public:
  static constexpr const char* kFile = "headers.txt";

  // From the compiler's Makefile-syntax dependency file; files in `own` (the runner's folder,
  // whose files are in the key) are left out.
  static Manifest from_depfile(const fs::path& depfile, const fs::path& own) {
    const std::string text = support::read_file(depfile);
    Manifest m;
    std::string path;
    bool target_done = false;
    const auto flush = [&] {
      if (!path.empty() && target_done && fs::path(path).parent_path() != own) m.entries_.push_back(entry(path));
      path.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '\n' || text[i + 1] == '\r')) {
        flush();
        i += text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n' ? 2 : 1;
      } else if (c == '\\' && i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '#')) {
        path += text[++i];  // an escaped space or hash is part of the name
      } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
        path += text[++i];
      } else if (c == ':' && !target_done && (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n')) {
        path.clear();
        target_done = true;
      } else if (c == ' ' || c == '\t' || c == '\n') {
        flush();
      } else {
        path += c;
      }
    }
    flush();
    if (!target_done || m.entries_.empty())
      throw std::runtime_error("castnet: error: the compiler's dependency file " + depfile.string() + " lists no headers");
    return m;
  }

  // Empty (so changed() is not) when the file is missing or unreadable.
  static Manifest read(const fs::path& file) {
    Manifest m;
    std::string text;
    try {
      text = support::read_file(file);
    } catch (const std::exception&) {
      return m;
    }
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      Entry e;
      if (fields >> e.sha256 >> e.size >> e.mtime && std::getline(fields >> std::ws, e.path)) m.entries_.push_back(e);
    }
    return m;
  }

  // The other's headers that this one does not list yet.
  void add(const Manifest& other) {
    for (const Entry& e : other.entries_)
      if (std::none_of(entries_.begin(), entries_.end(), [&](const Entry& mine) { return mine.path == e.path; }))
        entries_.push_back(e);
  }

  std::string text() const {
    std::string out;
    for (const Entry& e : entries_)
      out += e.sha256 + " " + std::to_string(e.size) + " " + std::to_string(e.mtime) + " " + e.path + "\n";
    return out;
  }

  // Empty when every header is as listed (and the list is not empty); else the first that is not.
  std::string changed() const {
    if (entries_.empty()) return "(no list of headers)";
    for (const Entry& e : entries_) {
      std::error_code ec;
      const auto size = fs::file_size(e.path, ec);
      if (ec || size != e.size) return e.path;
      if (mtime_of(e.path) == e.mtime) continue;
      try {
        if (io::sha256_hex(support::read_file(e.path)) != e.sha256) return e.path;
      } catch (const std::exception&) {
        return e.path;  // unreadable now: compile again, and let the compiler say why
      }
    }
    return "";
  }

 private:
  struct Entry {
    std::string sha256;
    std::uintmax_t size = 0;
    long long mtime = 0;  // nanoseconds
    std::string path;
  };

  static long long mtime_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return -1;
    return static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  }

  static Entry entry(const std::string& path) {
    const std::string bytes = support::read_file(path);
    return {io::sha256_hex(bytes), bytes.size(), mtime_of(path), fs::absolute(path).lexically_normal().string()};
  }

  std::vector<Entry> entries_;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// castnet executes what it finds in the cache: whatever lives there must be the effective user's
// and writable by nobody else (cache_dir.hpp).
constexpr std::string_view kRefusal = "castnet will not run programs from it";

// A fresh name in `dir` (pid and a counter), created exclusively so nothing else can have put a
// file (or a symlink) there first.
fs::path exclusive_temp(const fs::path& dir) {
  static std::atomic<unsigned> counter{0};
  const fs::path tmp = dir / ("runner.tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  if (fd < 0)
    throw std::runtime_error("castnet: error: cannot create " + tmp.string() + ": " + std::strerror(errno));
  ::close(fd);
  return tmp;
}

// Held while a runner is looked up and built: the ranks of an MPI job start the same build at once.
class BuildLock {
 public:
  explicit BuildLock(const fs::path& file) : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);  // without a lock the builds still work, only twice
  }
  ~BuildLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  BuildLock(const BuildLock&) = delete;
  BuildLock& operator=(const BuildLock&) = delete;

 private:
  int fd_;
};

// <cache>/runners, created private if it is missing.
fs::path runners_root() {
  const fs::path root = cache_root();
  fs::create_directories(root);
  const fs::path runners = root / "runners";
  private_dir(runners, kRefusal);
  return runners;
}

Runner build(const Toolchain& t, const Program& prog) {
  const std::string key = cache_key(t, prog);
  const fs::path runners = runners_root();
  const fs::path dir = runners / (prog.name + "-" + key.substr(0, 16));
  const fs::path exe = dir / "runner";
  const BuildLock lock(runners / (prog.name + "-" + key.substr(0, 16) + ".lock"));
  std::string why;  // why a cached runner is compiled again
  if (std::error_code ec; fs::exists(fs::symlink_status(exe, ec))) {
    check_private(dir, true, kRefusal);
    check_private(exe, false, kRefusal);
    why = Manifest::read(dir / Manifest::kFile).changed();
    if (why.empty()) {
      fs::last_write_time(dir, fs::file_time_type::clock::now(), ec);  // its last use, for castnet cache
      return {exe, false};
    }
  }

  if (prog.before_compile) prog.before_compile();
  private_dir(dir, kRefusal);
  for (const auto& [name, text] : prog.files) support::write_if_changed(dir / name, text);
  const fs::path tmp = exclusive_temp(dir);
  const fs::path log = dir / "build.log";
  std::string cmd = shell_quote(CASTNET_CXX) + " " + CASTNET_RUNNER_FLAGS + prog.compile_flags + " -I" + shell_quote(dir.string()) + " -I" +
                    shell_quote(t.include_dir.string());
  for (const auto& inc : prog.include_dirs) cmd += " -I" + shell_quote(inc.string());
  const fs::path depfile = dir / "runner.d";
  cmd += " -MD -MF " + shell_quote(depfile.string());
  // The units: objects compiled first, side by side (each as long as the model alone), into the log.
  std::string objects;
  std::vector<std::string> unit_commands;
  for (const auto& [source, flags] : prog.units) {
    const fs::path object = dir / (source + ".o");
    unit_commands.push_back(shell_quote(CASTNET_CXX) + " " + CASTNET_RUNNER_FLAGS + prog.compile_flags + flags + " -I" +
                            shell_quote(dir.string()) + " -I" + shell_quote(t.include_dir.string()) + " -MD -MF " +
                            shell_quote((dir / (source + ".d")).string()) + " -c " + shell_quote((dir / source).string()) +
                            " -o " + shell_quote(object.string()));
    objects += " " + shell_quote(object.string());
  }
  cmd += " " + shell_quote((dir / prog.files.front().first).string()) + objects + " " + shell_quote(t.runtime_lib.string());
  for (const auto& lib : prog.libs)
    cmd += " " + shell_quote(lib.string()) + " -Wl,-rpath," + shell_quote(lib.parent_path().string());
  cmd += prog.link_flags + " -o " + shell_quote(tmp.string());
  // The log starts with the command, so which headers and library were used can be seen later.
  std::string logged;
  for (const auto& c : unit_commands) logged += "$ " + c + "\n";
  support::write_if_changed(log, logged + "$ " + cmd + "\n");
  std::cerr << "castnet: compiling the " << prog.name << " runner (cached in " << dir.string() << ")"
            << (why.empty() ? "" : ": " + why + " changed since it was last compiled") << "\n";
  const auto start = std::chrono::steady_clock::now();
  try {
    // The units in parallel (their output into logs of their own, appended after), then the runner.
    std::vector<int> unit_status(unit_commands.size(), 0);
    {
      std::vector<std::jthread> compiles;
      for (std::size_t i = 0; i < unit_commands.size(); ++i)
        compiles.emplace_back([&, i] {
          const fs::path unit_log = dir / (prog.units[i].first + ".log");
          unit_status[i] = std::system((unit_commands[i] + " > " + shell_quote(unit_log.string()) + " 2>&1").c_str());
        });
    }
    for (std::size_t i = 0; i < unit_commands.size(); ++i) {
      const fs::path unit_log = dir / (prog.units[i].first + ".log");
      std::ofstream(log, std::ios::app) << support::read_file(unit_log);
      if (unit_status[i] != 0) cmd = "false";  // the runner cannot link: report the log below
    }
    if (std::system((cmd + " >> " + shell_quote(log.string()) + " 2>&1").c_str()) != 0) {
      std::string out = support::read_file(log);
      if (out.size() > 4000) out = "..." + out.substr(out.size() - 4000);
      throw std::runtime_error("castnet: error: compiling the generated model failed (log: " + log.string() + ")\n" + out);
    }
    // Whatever the umask: readable and runnable by all, writable only by the owner.
    fs::permissions(tmp, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    // The list first: a runner without its list is compiled again, never trusted.
    Manifest headers = Manifest::from_depfile(depfile, dir);
    for (const auto& [source, flags] : prog.units) headers.add(Manifest::from_depfile(dir / (source + ".d"), dir));
    support::write_if_changed(dir / Manifest::kFile, headers.text());
    fs::rename(tmp, exe);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "castnet: compiled in " << static_cast<int>(secs * 10) / 10.0 << " s\n";
  return {exe, true};
}

}  // namespace

bool runners_dispatch() {
  if (const char* forced = std::getenv("CASTNET_RUNNER_DISPATCH"); forced != nullptr && *forced != '\0') {
    if (std::string_view(forced) == "1") return true;
    if (std::string_view(forced) == "0") return false;
    throw std::runtime_error(std::string("castnet: error: CASTNET_RUNNER_DISPATCH='") + forced + "': must be 1 or 0");
  }
  return std::string_view(CASTNET_RUNNER_FLAGS).find("-march=native") == std::string_view::npos;
}

Runner build_runner(const std::string& ns, const std::string& header_text,
                    const std::vector<std::pair<std::string, std::string>>& units, const Sharded& sharded,
                    const std::function<void()>& before_compile) {
  const Toolchain t = find_toolchain();
  gen::Holes h;
  h.id("ns", ns).code("header", ns + ".hpp");
  Program prog{ns, {}, {}, {}, " -pthread", "", before_compile};
  if (sharded.global_batch == 0) {
    h.code("mpi_include", "").code("sharding", "");
  } else {
    gen::Holes s;
    s.num("batch", sharded.global_batch).code("connect", sharded.mpi ? "&castnet::connect_mpi" : "nullptr");
    h.code("mpi_include", sharded.mpi ? "#include <castnet/train/mpi.hpp>\n" : "")
        .code("sharding", gen::render_text(", castnet::Sharding({{batch}}, {{connect}})", s, "runner sharding"));
    prog.name += "-" + std::to_string(sharded.global_batch);
  }
  if (sharded.mpi) {
    if (t.mpi_lib.empty())
      throw std::runtime_error(
          "castnet: error: this castnet was built without MPI, so it cannot train under mpirun or with "
          "--distributed (Debian: apt-get install libopenmpi-dev openmpi-bin, then rebuild; ./castnet does both)");
    prog.libs.push_back(t.mpi_lib);
    prog.name += "-mpi";
  }
  prog.files = {{"runner.cpp", gen::render("runner.cpp.tmpl", h) + "\n"}, {ns + ".hpp", header_text}};
  for (const auto& [name, text] : units) {
    prog.files.emplace_back(name, text);
    // "<stem>_<isa>.cpp": the instruction sets of this machine's family, and the dispatcher.
    const std::string isa = name.substr(name.rfind('_') + 1, name.size() - name.rfind('_') - 5);
    const gen::Arch* arch = gen::find_arch(isa);
#if defined(__x86_64__) || defined(__i386__)
    if (isa == "neon") continue;
#elif defined(__aarch64__)
    if (isa == "sse4" || isa == "avx2" || isa == "avx512") continue;
#endif
    prog.units.emplace_back(name, arch != nullptr && !arch->build_flags.empty() ? " " + std::string(arch->build_flags) : "");
  }
  if (!units.empty()) prog.name += "-dispatch";
  return build(t, prog);
}

Runner build_bench_runner(const BenchHeaders& in) {
#ifdef CASTNET_BENCH_LIB
  gen::Holes h;
  h.id("ns", in.ns).code("header", in.ns + ".hpp");
  std::vector<std::pair<std::string, std::string>> headers{{in.ns + ".hpp", in.header}};
  std::string models = in.ns + "::Model";
  // The header of an optional model: its #include, and its type among run_model's arguments.
  auto optional = [&](const char* hole, const std::string& ns, const std::string& text, const char* type) {
    if (ns.empty()) {
      h.code(hole, "");
      models += ", void";
      return;
    }
    gen::Holes s;
    s.id("ns", ns);
    h.code(hole, gen::render_text("#include \"{{ns}}.hpp\"", s, "bench include"));
    models += ", " + gen::render_text(type, s, "bench model");
    headers.push_back({ns + ".hpp", text});
  };
  optional("shard_include", in.shard_ns, in.shard_header, "{{ns}}::Model");
  optional("export_include", in.export_ns, in.export_header,
           "castnet::bench::Exported<&{{ns}}::predict, &{{ns}}::predict_batch, {{ns}}::kInputs, {{ns}}::kOutputs, "
           "{{ns}}::kBatch>");
  for (const auto& [hole, ns, text] : {std::tuple{"int8_include", in.int8_ns, in.int8_header},
                                       std::tuple{"bf16_include", in.bf16_ns, in.bf16_header}})
    optional(hole, ns, text,
             "castnet::bench::Exported<&{{ns}}::predict, &{{ns}}::predict_batch, {{ns}}::kInputs, {{ns}}::kOutputs, "
             "{{ns}}::kBatch>");
  h.code("models", models);
  fs::path lib = CASTNET_BENCH_LIB;
  std::string name = in.ns + "-bench", flags;
  if (!in.arch.empty() && in.arch != "native") {
    const gen::Arch* arch = gen::find_arch(in.arch);
    const auto libs = bench_arch_libs();
    const auto found = std::find_if(libs.begin(), libs.end(), [&](const auto& l) { return l.first == in.arch; });
    if (arch == nullptr || found == libs.end()) throw std::logic_error("castnet bench: no suite library for --arch " + in.arch);
    lib = found->second;
    name += "-" + in.arch;
    flags = " " + std::string(arch->build_flags);
  }
  // Building castnet does not build the suite's libraries (bench/CMakeLists.txt).
  if (!fs::exists(lib))
    throw std::runtime_error("castnet bench: error: " + lib.string() +
                             " is not built: build the castnet_bench_all target, or run ./castnet bench, which does");
  Program prog{name, {{"bench.cpp", gen::render("bench_runner.cpp.tmpl", h) + "\n"}}, {}, {lib}, " -lbenchmark -pthread", flags, {}};
  prog.files.insert(prog.files.end(), headers.begin(), headers.end());
  std::string_view dirs = CASTNET_BENCH_INCLUDES;
  for (std::size_t start = 0; start <= dirs.size();) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    prog.include_dirs.emplace_back(std::string(dirs.substr(start, end - start)));
    start = end + 1;
  }
  return build(find_toolchain(), prog);
#else
  (void)in;
  throw std::runtime_error(
      "castnet: error: this castnet was built without the benchmark suite (it needs Google Benchmark, Debian: "
      "libbenchmark-dev; run ./castnet bench from the repository to install it)");
#endif
}

std::vector<std::pair<std::string, fs::path>> bench_arch_libs() {
  std::vector<std::pair<std::string, fs::path>> libs;
#ifdef CASTNET_BENCH_ARCH_LIBS
  // "avx512=/path/libcastnet_bench_avx512.so:avx2=...", from bench/CMakeLists.txt.
  const std::string_view text = CASTNET_BENCH_ARCH_LIBS;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find(':', start), text.size());
    const std::string_view item = text.substr(start, end - start);
    const std::size_t eq = item.find('=');
    if (eq != std::string_view::npos) libs.emplace_back(std::string(item.substr(0, eq)), fs::path(item.substr(eq + 1)));
    start = end + 1;
  }
#endif
  return libs;
}

fs::path runner_cache_folder(const std::string& name) {
  const fs::path dir = runners_root() / name;
  private_dir(dir, kRefusal);
  return dir;
}

}  // namespace castnet::cli
