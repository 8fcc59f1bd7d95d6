// The command line's own error: something the user asked for cannot be done (no such session,
// a file that cannot be written, a bad combination of options). The message says what and what
// to do; main() prints it after "opsync COMMAND: error:" and exits 1. The libraries' typed
// errors (StoreError, ImportError, ReplayError, ...) reach main() as they are.
#pragma once

#include <stdexcept>

namespace opsync::cli {

class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace opsync::cli
