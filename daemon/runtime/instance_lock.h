// One opsyncd per station database. The daemon holds an exclusive flock() on "<db>.opsyncd" for
// its whole run; the file also says who holds it ({"pid", "session", "http"}) so that a second
// daemon can name the first, and local tools (opsync mark) can find its HTTP endpoint. The
// kernel drops the lock however its holder ends, kill -9 included, so a file left behind by a
// crash never blocks the next start: the next daemon takes the lock and reads what is left in
// the file as the previous run's.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace opsync::runtime {

// Another daemon holds the lock; what() names it (pid, session, address).
class AlreadyRunning : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InstanceLock {
 public:
  // Takes the lock on `path` (creating the file), or throws AlreadyRunning, or std::runtime_error
  // when the file cannot be created (read-only folder). `db` only serves the messages.
  static std::unique_ptr<InstanceLock> acquire(const std::string& path, const std::string& db);
  // Removes the file, then releases the lock (see release()).
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

  // What a previous holder left in the file (it ended without removing it); null when none.
  const nlohmann::json& previous() const { return previous_; }
  // Replaces the file's content (one JSON object and a newline).
  void publish(const nlohmann::json& info);
  // The run ends: removes the file while still holding the lock, then drops the lock.
  void release();
  // A start that failed: puts back what the previous holder left (it still describes the last
  // real run), or removes the file when there was nothing; then drops the lock.
  void abandon();

 private:
  InstanceLock(int fd, std::string path, std::string previous_text);

  int fd_ = -1;
  std::string path_;
  std::string previous_text_;  // as found, put back by abandon()
  nlohmann::json previous_;
};

}  // namespace opsync::runtime
