// libFuzzer target: BioLogic .mpr files through import_file(). Inputs without the .mpr magic
// are rejected (-1), so the corpus stays on this format; the text target covers the rest.
#include "import/biologic/biologic_mpr.h"
#include "import_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!opsync::import::looks_like_biologic_mpr(bytes.substr(0, 64))) return -1;
  opsync::fuzz::import_bytes(bytes, opsync::import::Kind::Cycler);
  return 0;
}
