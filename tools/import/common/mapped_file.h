// A user's file mapped read-only into memory, so readers see all of it as bytes without the
// process holding a copy: memory stays bounded whatever the file's size (pages come from the
// page cache as they are read, and can be dropped again). Only regular files are accepted: a
// FIFO, socket or device would block or never end.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace opsync::import {

class MappedFile {
 public:
  // Throws ImportError: missing, not a regular file (named what it is), unreadable.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  size_t size() const { return size_; }
  // Gives back the pages before `offset` (they stay in the page cache, not in this process):
  // for readers that walk a large file once from start to end.
  void release_before(size_t offset) const;
  // The first offset >= `offset` outside a hole (lseek SEEK_DATA); size() when only holes follow.
  size_t next_data(size_t offset) const;

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;  // kept open for SEEK_DATA
};

// For readers that only see bytes: if `upto` lies inside a live MappedFile, gives back that
// mapping's pages before it (as release_before); otherwise (bytes held in a string) nothing.
// Walks over a huge or sparse file call it as they go so the scanned pages do not stay resident.
void release_mapped_before(const char* upto);
// If `p` lies inside a live MappedFile, the first byte at or after it that is not in a hole of
// a sparse file (holes read as zeros); `p` itself otherwise. Lets searches skip holes unread.
const char* skip_mapped_hole(const char* p);

// Throws ImportError unless `path` is a regular file (checked without opening it, so a FIFO
// never blocks). Says what it is otherwise: directory, FIFO, socket, device.
void require_regular_file(const std::string& path);

}  // namespace opsync::import
