// termios2 / BOTHER custom baud rate.
#include "runtime/custom_baud.h"

#include <asm/termbits.h>
#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>

namespace opsync::runtime {

bool set_custom_baud(int fd, unsigned baud, std::string& error) {
  struct termios2 tio {};
  if (ioctl(fd, TCGETS2, &tio) != 0) {
    error = std::strerror(errno);
    return false;
  }
  tio.c_cflag &= ~static_cast<tcflag_t>(CBAUD);
  tio.c_cflag |= BOTHER;
  tio.c_ispeed = baud;
  tio.c_ospeed = baud;
  if (ioctl(fd, TCSETS2, &tio) != 0) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace opsync::runtime
