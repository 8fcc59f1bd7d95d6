// libFuzzer target: Arbin .res files (Access databases read through mdbtools' libmdb) through
// import_file(). Inputs without the Jet signature are rejected (-1).
#include "import/arbin/arbin_res.h"
#include "import_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!opsync::import::looks_like_arbin_res(bytes.substr(0, 64))) return -1;
  opsync::fuzz::import_bytes(bytes, opsync::import::Kind::Cycler);
  return 0;
}
