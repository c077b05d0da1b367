// Test support: run a program (no shell involved) in a given directory and capture its exit code,
// stdout and stderr, or start one and wait for it later (spawn, wait_exit); and a temporary
// directory removed at scope exit.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace castnet::test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<unsigned> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("castnet-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Writes `bytes` to a file in the directory and returns its path.
  std::filesystem::path file(const std::string& name, const std::string& bytes) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  std::filesystem::path path_;
};

struct Result {
  int exit_code = -1;
  std::string out, err;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Starts args[0] with args (cwd empty: the current directory; env entries "NAME=value" added to
// the inherited environment) and returns at once with the child's pid; its stdout and
// stderr go to the files `out` and `err`. End it with wait_exit() (after kill(), if need be).
// `in_child`, if given, runs in the child just before exec (e.g. to set a resource limit); it
// returns false to make the child exit with code 126 instead.
inline pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& out,
                   const std::filesystem::path& err, const std::filesystem::path& cwd = {},
                   const std::vector<std::string>& env = {}, bool (*in_child)() = nullptr) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    if (in_child && !in_child()) ::_exit(126);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// The exit code of a child that has ended, or 128 + the signal that ended it.
inline int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// Waits for the child `pid` and returns its exit code as exit_code_of() gives it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return exit_code_of(status);
}

// Whether the child `pid` has ended, without waiting; if so, reaps it and sets `code`.
inline bool has_exited(pid_t pid, int& code) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return false;
  code = exit_code_of(status);
  return true;
}

// Waits until `file` exists or the child `pid` ends (reaping it and setting `code`), for at most
// two minutes. True while the child still runs.
inline bool running_when_file_appears(pid_t pid, const std::filesystem::path& file, int& code) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(file) && std::chrono::steady_clock::now() < deadline) {
    if (has_exited(pid, code)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Runs args[0] with args to its end (cwd, env and in_child as for spawn) and returns its exit code and output.
inline Result run(const std::vector<std::string>& args, const std::filesystem::path& cwd = {},
                  const std::vector<std::string>& env = {}, bool (*in_child)() = nullptr) {
  TempDir tmp;
  const auto out = tmp.path() / "out", err = tmp.path() / "err";
  Result r;
  r.exit_code = wait_exit(spawn(args, out, err, cwd, env, in_child));
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

inline std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// A shell command's exit code (-1 if it did not exit) and its stdout and stderr together, which
// also stay in `log` for a failing test to show.
struct ShellResult {
  int status = -1;
  std::string output;
};

inline ShellResult run_shell(const std::string& command, const std::filesystem::path& log) {
  const int raw = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
  return {(raw != -1 && WIFEXITED(raw)) ? WEXITSTATUS(raw) : -1, read_file(log)};
}

}  // namespace castnet::test
