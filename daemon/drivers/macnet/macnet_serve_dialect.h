// How `opsync replay serve` plays a recorded MacNet server: JSON-RPC requests are matched without
// their id and the recorded reply gets the live id; binary requests are matched byte for byte.
#pragma once

#include <memory>

#include "drivers/macnet/macnet_codec.h"
#include "drivers/serve_dialect.h"

namespace opsync::drivers::macnet {

std::unique_ptr<ServeDialect> make_macnet_serve_dialect(macnet::Mode mode);

}  // namespace opsync::drivers::macnet
