// HDF5 export of a session in the NeXus style synchrotron users expect (docs/export.md has the
// tree): one NXentry per session, one NXcollection per source carrying its clock model, one
// NXdata per channel (channels of a source keep their own time bases), events and scans as
// tables of parallel columns. Samples stream through the store's cursor one chunk at a time, so
// memory does not grow with the session. The file is written as `OUT.tmp` and renamed to `OUT`
// only when complete: after a failure there is no `OUT` (an older `OUT` is left as it was).
#pragma once

#include <cstdint>
#include <filesystem>

#include "store/reader.h"

namespace opsync::cli {

struct Hdf5ExportOptions {
  // Samples per chunk of a channel's datasets (also the streaming buffer): 64 Ki samples are
  // 512 KiB per dataset, a few chunks per typical channel and well inside HDF5's chunk cache.
  uint64_t chunk_samples = 65536;
  // zlib level for chunked datasets (after the byte shuffle filter); 0 turns compression off.
  int deflate_level = 4;
};

struct Hdf5ExportStats {
  uint64_t sources = 0;
  uint64_t channels = 0;
  uint64_t samples = 0;
  uint64_t events = 0;
  uint64_t scans = 0;
  uint64_t bytes = 0;  // size of the finished file
};

// Throws CliError naming the file and the cause on any failure (no partial file stays).
Hdf5ExportStats export_session_hdf5(store::StoreReader& reader, const records::Session& session,
                                    const std::filesystem::path& out_file, const Hdf5ExportOptions& options = {});

}  // namespace opsync::cli
