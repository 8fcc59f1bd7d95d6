// libFuzzer target: Neware .ndax archives (a zip read through libzip) through import_file().
// Inputs that do not start like an .ndax are rejected (-1), so the corpus stays on this format.
#include "import/neware/neware_ndax.h"
#include "import_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!opsync::import::looks_like_neware_ndax(bytes.substr(0, 64))) return -1;
  opsync::fuzz::import_bytes(bytes, opsync::import::Kind::Cycler);
  return 0;
}
