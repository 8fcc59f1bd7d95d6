// Serial rates without a termios constant (SRS RGAs talk at 28800 baud) via Linux's termios2
// BOTHER. Kept in its own file: <asm/termbits.h> cannot be included beside <termios.h>.
#pragma once

#include <string>

namespace opsync::runtime {

// Sets input and output speed of the open serial fd to `baud`. False with `error` on failure.
bool set_custom_baud(int fd, unsigned baud, std::string& error);

}  // namespace opsync::runtime
