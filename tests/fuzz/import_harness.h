// What every importer fuzz target does with one input: the bytes become a file (in memory, a
// memfd, so that readers that open paths — libzip, libmdb — see a real regular file) and go
// through import_file() as `opsync import` would send them: strict first, then with --salvage
// when the strict import refused. Findings, beyond ASan/UBSan's: an exception other than
// ImportError (a user would see a library's message, not what is wrong with the file); a
// channel whose times and values differ in count; a salvaged import that left something out
// without saying so (strict refused, salvage accepted, no damage recorded); damage not
// turned into one import_skipped event each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "import/import_types.h"

namespace opsync::fuzz {

void import_bytes(std::string_view bytes, import::Kind kind);

}  // namespace opsync::fuzz
