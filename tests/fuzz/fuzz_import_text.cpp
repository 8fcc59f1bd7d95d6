// libFuzzer target: the text readers (BioLogic .mpt, Maccor, Zilien .tsv, opsync/Arbin/generic
// cycler CSV, mass-spectrometer CSV, strain CSV) through import_file(). Inputs that a binary
// reader would take are rejected (-1): they have targets of their own. What the user says the
// file holds (cycler, ms, strain) steers which reader a plain CSV goes to; it is taken from the
// input's length, so that every seed reaches each of the three as it is mutated.
#include "import/arbin/arbin_res.h"
#include "import/biologic/biologic_mpr.h"
#include "import/neware/neware_nda.h"
#include "import/neware/neware_ndax.h"
#include "import_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace opsync::import;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string_view head = bytes.substr(0, 64);
  if (looks_like_biologic_mpr(head) || looks_like_neware_nda(head) || looks_like_neware_ndax(head) ||
      looks_like_arbin_res(head)) {
    return -1;
  }
  static constexpr Kind kKinds[] = {Kind::Cycler, Kind::Ms, Kind::Strain};
  opsync::fuzz::import_bytes(bytes, kKinds[size % 3]);
  return 0;
}
