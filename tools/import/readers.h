// The format readers behind import_file(), each with the one ReadFn shape (format.h) and its
// detector. Internal to the importer library; tests reach them through import_file() or
// read_binary_file().
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "import/format.h"

namespace opsync::import {

// ---- Binary: by the first bytes. ----
// BioLogic EC-Lab binary (.mpr): 'BIO-LOGIC MODULAR FILE'.        biologic/biologic_mpr.h
// Neware BTS .nda: 'NEWARE' magic.                                 neware/neware_nda.h
// Neware BTS .ndax: a zip whose first member Neware named.         neware/neware_ndax.h
// Arbin .res: a Jet (Access) database with Arbin's tables.         arbin/arbin_res.h

// ---- Text: by the lines. ----

// BioLogic EC-Lab / BT-Lab text export (.mpt): first line "EC-Lab ASCII FILE".
bool looks_like_biologic_mpt(const TextFile& file);
ImportResult read_biologic_mpt(const FileInput& in, const ImportOptions& options, TimeContext& times);

// Maccor text export: a line whose first field is "Rec#" or "Rec" within the first lines.
std::optional<size_t> find_maccor_header(const TextFile& file);
ImportResult read_maccor_text(const FileInput& in, const ImportOptions& options, TimeContext& times);

// Spectro Inlets Zilien .tsv: first line "num_header_lines\t...", 5-field metadata lines.
bool looks_like_zilien_tsv(const TextFile& file);
ImportResult read_zilien_tsv(const FileInput& in, const ImportOptions& options, TimeContext& times);

// The first line that looks like column names for `kind` (after blank and '#' lines).
size_t find_header_line(const TextFile& file, Kind kind);

// opsync's own CSV export: header "t_ns,time_utc,<name>[<unit>],...".
bool looks_like_opsync_csv(const TextFile& file, size_t header_index);
ImportResult read_opsync_csv(const FileInput& in, const ImportOptions& options, TimeContext& times);

// Plain cycler CSV/TSV, including Arbin CSV exports.
ImportResult read_generic_csv(const FileInput& in, const ImportOptions& options, TimeContext& times);

// Mass-spectrometer CSV, long (time, mass, ion current) or wide (time, one column per mass).
ImportResult read_ms_csv(const FileInput& in, const ImportOptions& options, TimeContext& times);

// Strain scans: scan number, start, end, label, per-scan values.
ImportResult read_strain_csv(const FileInput& in, const ImportOptions& options, TimeContext& times);

}  // namespace opsync::import
