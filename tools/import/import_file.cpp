// import_file(): detects the format from the content (never the file name): the binary formats
// by their magic bytes first, then the text formats, and hands the file to the matching reader.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "import/arbin_res.h"
#include "import/biologic_mpr.h"
#include "import/import_types.h"
#include "import/neware_nda.h"
#include "import/neware_ndax.h"
#include "import/readers.h"
#include "import/text_file.h"
#include "import/time_context.h"

namespace opsync::import {

namespace {

// The whole file as bytes, for the binary readers.
std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImportError(path, 0, "", "cannot open the file for reading");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The first bytes, enough for every binary format's magic.
std::string read_head(const std::string& path, std::size_t n) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw ImportError(path, 0, "", "file not found; check the path");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImportError(path, 0, "", "cannot open the file for reading (permissions?)");
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head;
}

}  // namespace

ImportResult import_file(const std::string& path, const ImportOptions& options) {
  TimeContext times(options, path);  // bad --tz / --start fail before any reading
  const std::string head = read_head(path, 64);
  if (looks_like_biologic_mpr(head)) return read_biologic_mpr(read_bytes(path), options, times);
  if (looks_like_neware_nda(head)) return read_neware_nda(read_bytes(path), options, times);
  if (looks_like_neware_ndax(head)) return read_neware_ndax(path, options, times);
  if (looks_like_arbin_res(head)) return read_arbin_res(path, options, times);
  const TextFile file = read_text_file(path);

  ImportResult result;
  if (looks_like_biologic_mpt(file)) {
    result = read_biologic_mpt(file, options, times);
  } else if (looks_like_zilien_tsv(file)) {
    result = read_zilien_tsv(file, options, times);
  } else if (auto maccor = find_maccor_header(file)) {
    result = read_maccor_text(file, *maccor, options, times);
  } else {
    const size_t header = find_header_line(file, options.kind);
    if (options.kind != Kind::Strain && looks_like_opsync_csv(file, header)) {
      result = read_opsync_csv(file, header, options, times);
    } else if (options.kind == Kind::Strain) {
      result = read_strain_csv(file, header, options, times);
    } else if (options.kind == Kind::Ms) {
      result = read_ms_csv(file, header, options, times);
    } else {
      result = read_generic_csv(file, header, options, times);
    }
  }
  if (file.encoding() != "utf-8") {
    result.assumptions.push_back(fmt::format("text encoding: {}{}", file.encoding(),
                                             file.encoding() == "cp1252"
                                                 ? " (not valid UTF-8; read as Windows latin-1)"
                                                 : ""));
  }
  return result;
}

}  // namespace opsync::import
