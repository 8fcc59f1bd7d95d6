// How `opsync replay serve` plays a recorded trigger bridge: COBS frames; a recorded ping reply
// answers the live ping (its seq and send time rewritten), and edges and heartbeats, which the
// bridge sends unasked, are played at their recorded times.
#pragma once

#include <memory>

#include "drivers/serve_dialect.h"

namespace opsync::drivers::bridge {

std::unique_ptr<drivers::ServeDialect> make_bridge_serve_dialect();

}  // namespace opsync::drivers::bridge
