// Pseudo-terminal link; see pty_link.h.
#include "host/pty_link.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>

namespace opsync::fw::host {

PtyLink::~PtyLink() {
  if (master_ >= 0) ::close(master_);
  if (slave_keepalive_ >= 0) ::close(slave_keepalive_);
  if (!link_path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(link_path_, ignored);
  }
}

bool PtyLink::open(const std::string& link_path, std::string& error) {
  master_ = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0) {
    error = fmt::format("cannot open a pseudo-terminal: {}", std::strerror(errno));
    return false;
  }
  const char* name = ptsname(master_);
  if (name == nullptr) {
    error = fmt::format("cannot name the pseudo-terminal: {}", std::strerror(errno));
    return false;
  }
  slave_path_ = name;
  slave_keepalive_ = ::open(slave_path_.c_str(), O_RDWR | O_NOCTTY);
  if (slave_keepalive_ < 0) {
    error = fmt::format("cannot open {}: {}", slave_path_, std::strerror(errno));
    return false;
  }
  termios tio{};
  tcgetattr(slave_keepalive_, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave_keepalive_, TCSANOW, &tio);
  if (!link_path.empty()) {
    std::error_code ec;
    std::filesystem::remove(link_path, ec);
    std::filesystem::create_symlink(slave_path_, link_path, ec);
    if (ec) {
      error = fmt::format("cannot create the link {} -> {}: {}", link_path, slave_path_, ec.message());
      return false;
    }
    link_path_ = link_path;
  }
  return true;
}

bool PtyLink::read_available(std::vector<uint8_t>* out) {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = ::read(master_, buf, sizeof buf);
    if (n > 0) {
      out->insert(out->end(), buf, buf + n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // EAGAIN: nothing more now. EIO: no slave open, which the keep-alive prevents; treat as idle.
    return n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EIO;
  }
}

void PtyLink::write(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(master_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  dropped_ += bytes.size() - done;
}

}  // namespace opsync::fw::host
