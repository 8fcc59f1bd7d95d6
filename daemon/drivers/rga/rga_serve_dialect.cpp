// The RGA serve dialect: commands end in CR; nothing to rewrite.
#include "drivers/rga/rga_serve_dialect.h"

#include "drivers/serve_framing.h"

namespace opsync::drivers::rga {
namespace {

class RgaDialect final : public ServeDialect {
 public:
  std::string_view name() const override { return "rga"; }
  void feed(std::string_view bytes) override { framer_.feed(bytes); }
  bool next_request(std::string& r) override { return framer_.next(r); }
  void reset() override { framer_.reset(); }

 private:
  TerminatedFramer framer_{'\r'};
};

}  // namespace

std::unique_ptr<ServeDialect> make_rga_serve_dialect() { return std::make_unique<RgaDialect>(); }

}  // namespace opsync::drivers::rga
