// The bridge's wire messages, generated from proto/bridge.proto. Its package (opsync.bridge) is
// also in the firmware's nanopb names, so it stays; the driver's namespace takes the messages in
// as its own vocabulary (Envelope, Edge, SyncReply, ...).
#pragma once

#include "bridge.pb.h"

namespace opsync::drivers::bridge {

using namespace ::opsync::bridge;

}  // namespace opsync::drivers::bridge
