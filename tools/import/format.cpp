// The format table: which readers exist and how each is recognised, in the order they are tried.
// A new format is one row here plus its reader's folder.
#include "import/format.h"

#include <memory>

#include "import/arbin/arbin_res.h"
#include "import/biologic/biologic_mpr.h"
#include "import/common/mapped_file.h"
#include "import/neware/neware_nda.h"
#include "import/neware/neware_ndax.h"
#include "import/readers.h"

namespace opsync::import {

namespace {

// Binary magic first: none of them can be mistaken for text.
constexpr BinaryFormat kBinary[] = {
    {"biologic-mpr", looks_like_biologic_mpr, read_biologic_mpr},
    {"neware-nda", looks_like_neware_nda, read_neware_nda},
    {"neware-ndax", looks_like_neware_ndax, read_neware_ndax},
    {"arbin-res", looks_like_arbin_res, read_arbin_res},
};

std::optional<size_t> at_first_line_if(bool match) { return match ? std::optional<size_t>(0) : std::nullopt; }

// Vendor text exports carry a signature of their own and win over the kind; then the kind the
// user named picks among the plain tables.
constexpr TextFormat kText[] = {
    {"biologic-mpt", [](const TextFile& f, Kind) { return at_first_line_if(looks_like_biologic_mpt(f)); },
     read_biologic_mpt},
    {"zilien-tsv", [](const TextFile& f, Kind) { return at_first_line_if(looks_like_zilien_tsv(f)); },
     read_zilien_tsv},
    {"maccor-text", [](const TextFile& f, Kind) { return find_maccor_header(f); }, read_maccor_text},
    {"opsync-csv",
     [](const TextFile& f, Kind k) -> std::optional<size_t> {
       if (k == Kind::Strain) return std::nullopt;
       const size_t header = find_header_line(f, k);
       return looks_like_opsync_csv(f, header) ? std::optional<size_t>(header) : std::nullopt;
     },
     read_opsync_csv},
    {"strain-csv",
     [](const TextFile& f, Kind k) -> std::optional<size_t> {
       return k == Kind::Strain ? std::optional<size_t>(find_header_line(f, k)) : std::nullopt;
     },
     read_strain_csv},
    {"ms-csv",
     [](const TextFile& f, Kind k) -> std::optional<size_t> {
       return k == Kind::Ms ? std::optional<size_t>(find_header_line(f, k)) : std::nullopt;
     },
     read_ms_csv},
    {"cycler-csv", [](const TextFile& f, Kind k) -> std::optional<size_t> { return find_header_line(f, k); },
     read_generic_csv},
};

}  // namespace

std::span<const BinaryFormat> binary_formats() { return kBinary; }
std::span<const TextFormat> text_formats() { return kText; }

ImportResult read_binary_file(ReadFn read, const std::string& path, const ImportOptions& options,
                              TimeContext& times) {
  const auto map = std::make_shared<const MappedFile>(path);
  return read(FileInput{path, map->bytes(), nullptr, 0}, options, times);
}

}  // namespace opsync::import
