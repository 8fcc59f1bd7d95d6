// BioLogic EC-Lab binary (.mpr) reader: recognised by its 'BIO-LOGIC MODULAR FILE' magic, read
// into the same channels, events and assumptions as the reader of its .mpt text export.
#pragma once

#include <string_view>

#include "import/format.h"
#include "import/import_types.h"

namespace opsync::import {

// True when `bytes` (the whole file, or at least its first 23 bytes) starts with the .mpr magic.
bool looks_like_biologic_mpr(std::string_view bytes);

// Reads a whole .mpr file. Throws ImportError (file name from `times`, byte offsets in the text)
// for anything truncated, corrupt or unknown, such as a column id whose size is not known.
ImportResult read_biologic_mpr(const FileInput& in, const ImportOptions& options, TimeContext& times);

}  // namespace opsync::import
