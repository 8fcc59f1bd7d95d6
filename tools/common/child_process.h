// Child processes for hardware-in-the-loop tests and benchmarks: started with posix_spawn, output to files,
// always stopped (SIGTERM, then SIGKILL after a grace period) when the handle goes away.
#pragma once

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace opsync::test {

class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& log_path) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Process() { stop(std::chrono::seconds(5)); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Waits for the process to end by itself; returns its exit status, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  // SIGTERM, then SIGKILL if it has not ended within `grace`. Returns the exit status.
  int stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int rc = wait(grace);
    if (rc == -1 && pid_ > 0) {
      kill(pid_, SIGKILL);
      rc = wait(std::chrono::seconds(5));
    }
    return rc;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace opsync::test
