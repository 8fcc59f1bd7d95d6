// mmap of import files; refusing what is not a regular file.
#include "import/common/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "import/import_types.h"

namespace opsync::import {
namespace {

// The live mappings, so that release_mapped_before() can tell a mapping from a string.
std::mutex g_maps_mutex;
std::vector<const MappedFile*> g_maps;

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

[[noreturn]] void refuse_kind(const std::string& path, mode_t mode) {
  throw ImportError(path, 0, "",
                    fmt::format("is {}, not a regular file; opsync imports only files (copy the data "
                                "into a file first)",
                                kind_of(mode)));
}

}  // namespace

void require_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw ImportError(path, 0, "", "file not found; check the path");
    throw ImportError(path, 0, "", fmt::format("cannot be read: {}", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) refuse_kind(path, st.st_mode);
}

MappedFile::MappedFile(const std::string& path) {
  require_regular_file(path);
  // O_NONBLOCK: if the path was swapped for a FIFO since the check, open() must not wait for
  // a writer; fstat() below then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw ImportError(path, 0, "",
                      fmt::format("cannot be opened for reading ({}); check its permissions",
                                  std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t mode = st.st_mode;
    ::close(fd);
    refuse_kind(path, mode);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data_ == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      data_ = nullptr;
      fd_ = -1;
      throw ImportError(path, 0, "", fmt::format("cannot be mapped for reading ({})", std::strerror(err)));
    }
    ::madvise(data_, size_, MADV_SEQUENTIAL);
    const std::lock_guard lock(g_maps_mutex);
    g_maps.push_back(this);
  }
  fd_ = fd;
}

MappedFile::~MappedFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!data_) return;
  {
    const std::lock_guard lock(g_maps_mutex);
    std::erase(g_maps, this);
  }
  ::munmap(data_, size_);
}

size_t MappedFile::next_data(size_t offset) const {
  if (fd_ < 0 || offset >= size_) return offset;
  const off_t at = ::lseek(fd_, static_cast<off_t>(offset), SEEK_DATA);
  if (at < 0) return errno == ENXIO ? size_ : offset;  // ENXIO: only a hole follows
  return std::min(static_cast<size_t>(at), size_);
}

const char* skip_mapped_hole(const char* p) {
  const std::lock_guard lock(g_maps_mutex);
  for (const MappedFile* m : g_maps) {
    const char* begin = m->bytes().data();
    if (p >= begin && p < begin + m->size()) return begin + m->next_data(static_cast<size_t>(p - begin));
  }
  return p;
}

void release_mapped_before(const char* upto) {
  const std::lock_guard lock(g_maps_mutex);
  for (const MappedFile* m : g_maps) {
    const char* begin = m->bytes().data();
    if (upto >= begin && upto <= begin + m->size()) m->release_before(static_cast<size_t>(upto - begin));
  }
}

void MappedFile::release_before(size_t offset) const {
  if (!data_) return;
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t end = std::min(offset, size_) / page * page;
  if (end > 0) ::madvise(data_, end, MADV_DONTNEED);
}

}  // namespace opsync::import
