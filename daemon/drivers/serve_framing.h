// Pieces the serve dialects share: a bounded framer for requests that end in a terminator byte,
// and a bounded map for the rewrites a dialect remembers.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace opsync::drivers {

inline constexpr size_t kMaxServeRequestBytes = 64 * 1024;  // a runaway partial request is dropped
inline constexpr size_t kMaxServeRemembered = 512;  // rewrites kept (far more than requests in flight)

template <typename K, typename V>
void remember_bounded(std::map<K, V>& m, const K& key, const V& value) {
  m[key] = value;
  while (m.size() > kMaxServeRemembered) m.erase(m.begin());
}

// Requests ending with a terminator byte (the RGA's CR, the bridge's frame delimiter).
class TerminatedFramer {
 public:
  explicit TerminatedFramer(char terminator) : terminator_(terminator) {}
  void feed(std::string_view bytes) {
    buf_.append(bytes);
    if (buf_.size() > kMaxServeRequestBytes) buf_.clear();
  }
  bool next(std::string& out) {
    const size_t end = buf_.find(terminator_);
    if (end == std::string::npos) return false;
    out = buf_.substr(0, end + 1);
    buf_.erase(0, end + 1);
    return true;
  }
  void reset() { buf_.clear(); }

 private:
  char terminator_;
  std::string buf_;
};

}  // namespace opsync::drivers
