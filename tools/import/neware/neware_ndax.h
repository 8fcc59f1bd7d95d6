// Neware BTS .ndax files: a zip of XML metadata (VersionInfo, TestInfo, Step) and .ndc
// tables (data.ndc; from .ndc version 11 on also data_runInfo.ndc, data_step.ndc and
// data_AUX_*.ndc). See shared/formats/neware-nda-ndax.md sections 4-7.
#pragma once

#include <string>
#include <string_view>

#include "import/format.h"
#include "import/import_types.h"

namespace opsync::import {

// True when `first_bytes` (the start of the file, a few hundred bytes are plenty) is a zip
// whose first member has a name Neware writes (VersionInfo.xml, TestInfo.xml, Step.xml,
// EditStep.xml or *.ndc). read_neware_ndax checks for data.ndc once the archive is open.
bool looks_like_neware_ndax(std::string_view first_bytes);

// Reads the .ndax at `path` (format "neware-ndax"). data.ndc versions 5, 14 and 17; another
// version, a zip that cannot be read (truncated, CRC error) or a corrupt member is an
// ImportError saying what was wrong.
ImportResult read_neware_ndax(const FileInput& in, const ImportOptions& options, TimeContext& times);

}  // namespace opsync::import
