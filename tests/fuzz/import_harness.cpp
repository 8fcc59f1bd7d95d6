#include "import_harness.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace opsync::fuzz {

namespace {

[[noreturn]] void finding(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "import fuzz finding: %s %s\n", what, detail.c_str());
  std::abort();
}

// One memfd for the process, rewritten for every input: no disk, and a path that open(2),
// stat(2) and mmap(2) treat as the regular file it is.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("fuzz_input", 0)) {
    if (fd_ < 0) finding("memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string& write(std::string_view bytes) {
    if (ftruncate(fd_, 0) != 0) finding("ftruncate failed");
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n <= 0) finding("pwrite failed");
      done += static_cast<size_t>(n);
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

void check_result(const import::ImportResult& r) {
  for (const auto& c : r.channels) {
    if (c.t_ns.size() != c.values.size()) finding("channel with unequal times and values:", c.name);
  }
  size_t skipped = 0;
  for (const auto& e : r.events) skipped += e.kind == "import_skipped";
  if (skipped != r.damage.size()) finding("damage without its import_skipped event");
}

}  // namespace

void import_bytes(std::string_view bytes, import::Kind kind) {
  static MemFile file;
  const std::string& path = file.write(bytes);
  import::ImportOptions options;
  options.kind = kind;
  try {
    check_result(import::import_file(path, options));
    return;
  } catch (const import::ImportError&) {
    // Refused: what --salvage makes of it is the next question.
  } catch (const std::exception& e) {
    finding("strict import threw something other than ImportError:", e.what());
  }
  options.salvage = true;
  try {
    const import::ImportResult r = import::import_file(path, options);
    check_result(r);
    if (r.damage.empty()) finding("refused without --salvage, accepted with it, and nothing recorded as skipped");
  } catch (const import::ImportError&) {
  } catch (const std::exception& e) {
    finding("salvaging import threw something other than ImportError:", e.what());
  }
}

}  // namespace opsync::fuzz
