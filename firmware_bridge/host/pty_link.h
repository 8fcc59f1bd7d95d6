// The host build's serial port: a pseudo-terminal, set up as `opsync sim` serves its simulated
// bridge (tools/sim/sim_server.cpp), so the daemon opens it like a USB adapter:
// address = "serial://<slave or link>?baud=115200". The slave stays open here in raw mode: the
// line discipline must not echo or translate binary frames, and the master must not see EIO
// while the daemon closes and reopens the port.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace opsync::fw::host {

class PtyLink {
 public:
  PtyLink() = default;
  PtyLink(const PtyLink&) = delete;
  PtyLink& operator=(const PtyLink&) = delete;
  ~PtyLink();

  // Opens the pseudo-terminal and, if link_path is not empty, points that symlink at its slave
  // (replacing an old link). False with `error` set if any step fails.
  bool open(const std::string& link_path, std::string& error);
  int fd() const { return master_; }
  const std::string& slave_path() const { return slave_path_; }
  // Appends what can be read now (non-blocking). False on a read error other than "nothing there".
  bool read_available(std::vector<uint8_t>* out);
  // Writes what the terminal takes now; the rest is dropped, as a UART overrun would, and counted.
  void write(std::span<const uint8_t> bytes);
  uint64_t bytes_dropped() const { return dropped_; }

 private:
  int master_ = -1;
  int slave_keepalive_ = -1;
  std::string slave_path_;
  std::string link_path_;
  uint64_t dropped_ = 0;
};

}  // namespace opsync::fw::host
