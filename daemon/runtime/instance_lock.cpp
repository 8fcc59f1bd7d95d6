// flock() on the runtime file, with a re-check that the locked file is still the one at the
// path: a daemon that stops removes the file, and one that opened it just before must not lock
// the removed copy while a third daemon creates a new one.
#include "runtime/instance_lock.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace opsync::runtime {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buf[4096];
  off_t at = 0;
  for (int i = 0; i < 64; ++i) {  // the file is one short line; 256 KiB is more than enough
    const ssize_t n = pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
  return text;
}

nlohmann::json parse_or_null(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json();
}

std::string describe_holder(const nlohmann::json& j) {
  if (j.is_null()) return "pid unknown (it is still starting)";
  std::string out = fmt::format("pid {}", j.value("pid", 0));
  if (j.contains("session")) out += fmt::format(", session '{}'", j.value("session", ""));
  const std::string http = j.value("http", "");
  out += http.empty() ? ", no HTTP endpoint" : fmt::format(", status at http://{}/status", http);
  return out;
}

void write_all(int fd, const std::string& text) {
  if (ftruncate(fd, 0) != 0) return;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

InstanceLock::InstanceLock(int fd, std::string path, std::string previous_text)
    : fd_(fd), path_(std::move(path)), previous_text_(std::move(previous_text)),
      previous_(parse_or_null(previous_text_)) {}

std::unique_ptr<InstanceLock> InstanceLock::acquire(const std::string& path, const std::string& db) {
  // A few rounds at most: each retry means a daemon removed the file between our open and lock.
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      throw std::runtime_error(fmt::format("cannot create the lock file {}: {}", path, std::strerror(err)));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string text = read_all(fd);
      close(fd);
      if (err == EWOULDBLOCK) {
        throw AlreadyRunning(fmt::format(
            "another opsyncd already records into {} ({}); stop it first (SIGINT or SIGTERM), "
            "or give this station another [station] db",
            db, describe_holder(parse_or_null(text))));
      }
      throw std::runtime_error(fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    }
    struct stat held {}, at_path {};
    if (fstat(fd, &held) == 0 && stat(path.c_str(), &at_path) == 0 && held.st_dev == at_path.st_dev &&
        held.st_ino == at_path.st_ino) {
      return std::unique_ptr<InstanceLock>(new InstanceLock(fd, path, read_all(fd)));
    }
    close(fd);  // removed by a daemon that just stopped: take the new file
  }
  throw std::runtime_error(fmt::format("cannot lock {}: it keeps being replaced", path));
}

InstanceLock::~InstanceLock() { release(); }

void InstanceLock::publish(const nlohmann::json& info) {
  if (fd_ < 0) return;
  write_all(fd_, info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void InstanceLock::release() {
  if (fd_ < 0) return;
  unlink(path_.c_str());
  close(fd_);
  fd_ = -1;
}

void InstanceLock::abandon() {
  if (fd_ < 0) return;
  if (previous_text_.empty()) {
    unlink(path_.c_str());
  } else {
    write_all(fd_, previous_text_);
  }
  close(fd_);
  fd_ = -1;
}

}  // namespace opsync::runtime
