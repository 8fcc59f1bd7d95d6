// Names of the record enums, as the store's text columns and the capture log spell them.
#include "records/records.h"

namespace opsync::records {

std::string_view capture_kind_name(CaptureKind kind) {
  switch (kind) {
    case CaptureKind::kIn: return "in";
    case CaptureKind::kOut: return "out";
    case CaptureKind::kTick: return "tick";
  }
  return "in";
}

}  // namespace opsync::records
