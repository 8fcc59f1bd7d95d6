// opsyncd as a separate process for the daemon's own tests: a station folder with its
// station.toml, a way to wait for the daemon to publish its endpoint (<db>.opsyncd), and a
// small blocking HTTP client with deadlines. Everything talks to 127.0.0.1 only.
#pragma once

#include <arpa/inet.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "common/child_process.h"

namespace opsync::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A folder for one test, removed with everything in it.
class StationDir {
 public:
  StationDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::path(::testing::TempDir()) /
            (std::string("opsyncd_") + info->test_suite_name() + "_" + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~StationDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path config() const { return path_ / "station.toml"; }
  fs::path db() const { return path_ / "station.db"; }
  fs::path runtime() const { return path_ / "station.db.opsyncd"; }
  fs::path log(const std::string& name) const { return path_ / (name + ".log"); }
  void write_config(const std::string& text) const { std::ofstream(config()) << text; }

 private:
  fs::path path_;
};

// A listening socket on 127.0.0.1 that never accepts: the kernel completes connections into its
// backlog, and nothing ever answers them.
class MuteListener {
 public:
  MuteListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 64) != 0) return;
    socklen_t n = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
  }
  ~MuteListener() { close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A port on 127.0.0.1 where nothing listens (bound once, then released).
inline uint16_t unused_port() {
  MuteListener l;
  return l.port();
}

// One source that is never reachable: the daemon keeps retrying it, which is all these tests need.
inline std::string unreachable_source(const std::string& name = "cycler") {
  return "[[source]]\nname = \"" + name + "\"\ndriver = \"macnet\"\naddress = \"tcp://127.0.0.1:" +
         std::to_string(unused_port()) + "\"\nreconnect_min_s = 0.2\nreconnect_max_s = 0.5\n";
}

inline std::string station_toml(const std::string& http, const std::string& sources) {
  return "[station]\ndb = \"station.db\"\nsession = \"s1\"\n\n[status]\nhttp = \"" + http +
         "\"\nline = false\n\n" + sources;
}

inline nlohmann::json runtime_info(const StationDir& dir) {
  return nlohmann::json::parse(slurp(dir.runtime()), nullptr, false);
}

// The HTTP port of the daemon `pid` once it has published it, or 0 after `timeout`.
inline uint16_t wait_for_endpoint(const StationDir& dir, pid_t pid, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto j = runtime_info(dir);
    if (j.is_object() && j.value("pid", 0) == pid && !j.value("starting", false) && j.contains("http")) {
      const std::string http = j.value("http", "");
      const auto colon = http.rfind(':');
      if (colon != std::string::npos) return static_cast<uint16_t>(std::stoi(http.substr(colon + 1)));
    }
    std::this_thread::sleep_for(20ms);
  }
  return 0;
}

#ifdef OPSYNCD_BINARY
inline test::Process start_daemon(const StationDir& dir, const std::string& log_name = "opsyncd") {
  return test::Process({OPSYNCD_BINARY, "--config", dir.config().string()}, dir.log(log_name).string());
}
#endif

// A connected client socket to 127.0.0.1:port (-1 on failure).
inline int connect_to(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Everything the peer sends until it closes, or until `timeout`; nullopt on timeout.
inline std::optional<std::string> read_until_closed(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;  // closed (or reset)
    out.append(buf, static_cast<size_t>(n));
  }
}

struct HttpReply {
  int status = 0;  // 0: no answer in time, or not HTTP
  std::string body;
};

inline HttpReply parse_reply(const std::string& raw) {
  HttpReply r;
  if (raw.rfind("HTTP/1.1 ", 0) == 0 && raw.size() >= 12) r.status = std::stoi(raw.substr(9, 3));
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end != std::string::npos) r.body = raw.substr(head_end + 4);
  return r;
}

inline HttpReply http_exchange(uint16_t port, const std::string& request, std::chrono::milliseconds timeout = 10s) {
  const int fd = connect_to(port);
  if (fd < 0) return {};
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413) before reading everything
    sent += static_cast<size_t>(n);
  }
  const auto raw = read_until_closed(fd, timeout);
  close(fd);
  return raw ? parse_reply(*raw) : HttpReply{};
}

inline HttpReply get_status(uint16_t port, std::chrono::milliseconds timeout = 10s) {
  return http_exchange(port, "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", timeout);
}

inline HttpReply post_mark(uint16_t port, const std::string& body) {
  return http_exchange(port, "POST /mark HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

inline size_t open_fds(pid_t pid) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

// Runs a command through the shell with a hard limit, output to files in `dir`.
struct CommandRun {
  int exit_code = -1;
  std::string out, err;
  double wall_s = 0;
};
inline CommandRun run_command(const StationDir& dir, const std::string& cmd, int limit_s = 60) {
  // Beside the folder, not in it: some tests make the folder read-only.
  const fs::path out = dir.path().string() + ".stdout.txt";
  const fs::path err = dir.path().string() + ".stderr.txt";
  const auto t0 = std::chrono::steady_clock::now();
  const int status = std::system(("timeout " + std::to_string(limit_s) + " " + cmd + " >" + out.string() + " 2>" +
                                  err.string() + " </dev/null")
                                     .c_str());
  CommandRun r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  fs::remove(out);
  fs::remove(err);
  return r;
}

}  // namespace opsync::test
