// The one shape every format reader has, and the table import_file() detects formats from.
// A reader gets the file once, mapped (and, for the text formats, already decoded into lines
// with the header line found); it never opens or re-reads the file itself, except through
// libraries that insist on a path (libmdb for .res, libzip for .ndax), which use `path`.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "import/common/text_file.h"
#include "import/common/time_context.h"
#include "import/import_types.h"

namespace opsync::import {

struct FileInput {
  std::string path;                // for messages, and for the libraries that open paths
  std::string_view bytes;          // the whole file, mapped
  const TextFile* text = nullptr;  // text formats: the decoded lines (nullptr for binary ones)
  size_t header_index = 0;         // text formats: the line holding the column names
};

using ReadFn = ImportResult (*)(const FileInput& in, const ImportOptions& options, TimeContext& times);

// Binary formats are told apart by their first bytes (64 are passed).
struct BinaryFormat {
  std::string_view name;
  bool (*detect)(std::string_view head);
  ReadFn read;
};

// Text formats by their lines and the kind the user named; detect returns the header line's
// index when the format matches. Tried in order; the last one takes any text.
struct TextFormat {
  std::string_view name;
  std::optional<size_t> (*detect)(const TextFile& file, Kind kind);
  ReadFn read;
};

std::span<const BinaryFormat> binary_formats();
std::span<const TextFormat> text_formats();

// Maps `path` and hands it to one reader as it is, without detection or settle_damage (tests
// use it to reach a binary reader directly).
ImportResult read_binary_file(ReadFn read, const std::string& path, const ImportOptions& options,
                              TimeContext& times);

}  // namespace opsync::import
