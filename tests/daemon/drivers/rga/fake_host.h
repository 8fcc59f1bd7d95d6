// The RGA tests' host: the shared test double (tests/support/recording_host.h).
#pragma once

#include "support/recording_host.h"

namespace opsync::drivers::rga::testing {

using FakeHost = opsync::test::RecordingHost;
using opsync::test::as_bytes;

}  // namespace opsync::drivers::rga::testing
