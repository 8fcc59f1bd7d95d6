// How `opsync replay serve` plays a recorded SRS RGA: CR-terminated commands, matched byte for
// byte, answered as recorded.
#pragma once

#include <memory>

#include "drivers/serve_dialect.h"

namespace opsync::drivers::rga {

std::unique_ptr<ServeDialect> make_rga_serve_dialect();

}  // namespace opsync::drivers::rga
