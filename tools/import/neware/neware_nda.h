// Neware BTS .nda files (binary, one file per test): magic "NEWARE", version byte 29 (BTS 7.x,
// integer records) or 130 (BTS 9.x, float records). See shared/formats/neware-nda-ndax.md.
#pragma once

#include <string_view>

#include "import/format.h"
#include "import/import_types.h"

namespace opsync::import {

// True when `bytes` (the file, or at least its first bytes) starts with the "NEWARE" magic.
bool looks_like_neware_nda(std::string_view bytes);

// Reads a whole .nda held in `bytes` (format "neware-nda"). Versions 29 and 130; any other
// version, a truncated or corrupt file is an ImportError saying what was wrong.
ImportResult read_neware_nda(const FileInput& in, const ImportOptions& options, TimeContext& times);

}  // namespace opsync::import
