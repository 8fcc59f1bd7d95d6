// Ownership of HDF5 identifiers (hid_t) for the HDF5 exporter and its tests: one small handle
// type per kind of identifier, closed by the matching H5?close, plus the text of the HDF5 error
// stack so a failure can be reported in a sentence instead of HDF5's own stderr dump.
#pragma once

#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace opsync::h5 {

// Owns one identifier and closes it with `Close` when destroyed. Negative ids mean "none".
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and says whether that worked (a file's last metadata is written by its close).
  bool close() {
    const bool ok = id_ < 0 || Close(id_) >= 0;
    id_ = H5I_INVALID_HID;
    return ok;
  }
  void reset() { static_cast<void>(close()); }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using PropList = Handle<H5Pclose>;
using Attribute = Handle<H5Aclose>;

// Turns off HDF5's habit of printing its error stack to stderr; callers report errors themselves.
inline void silence_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// The cause at the bottom of the current error stack (for an I/O failure, the operating system's
// message, e.g. "No space left on device"), then clears the stack. Empty when there is no error.
inline std::string take_error_text() {
  struct Found {
    std::string innermost;
    bool have = false;
  } found;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto& f = *static_cast<Found*>(data);
        if (!f.have && e->desc != nullptr) {
          f.innermost = e->desc;
          f.have = true;
        }
        return 0;
      },
      &found);
  H5Eclear2(H5E_DEFAULT);
  // The POSIX driver's message carries "errno = N, error message = 'TEXT'": TEXT is the useful part.
  const std::string key = "error message = '";
  const auto at = found.innermost.find(key);
  if (at != std::string::npos) {
    const auto begin = at + key.size();
    const auto end = found.innermost.find('\'', begin);
    if (end != std::string::npos) return found.innermost.substr(begin, end - begin);
  }
  return found.innermost;
}

}  // namespace opsync::h5
