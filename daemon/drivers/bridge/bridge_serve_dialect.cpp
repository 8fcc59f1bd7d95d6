// The bridge serve dialect: frames end in the COBS delimiter; ping replies rewritten.
#include "drivers/bridge/bridge_serve_dialect.h"

#include <map>
#include <optional>

#include "drivers/bridge/bridge_codec.h"
#include "drivers/bridge/frame.h"
#include "drivers/serve_framing.h"

namespace opsync::drivers::bridge {
namespace {

std::optional<Envelope> decode_frame(const std::string& frame) {
  FrameDecoder d;
  FrameResult r;
  for (unsigned char c : frame) {
    if (d.push(c, r)) {
      if (r.status != FrameStatus::ok) return std::nullopt;
      return decode_envelope(r.payload);
    }
  }
  return std::nullopt;
}

class BridgeDialect final : public drivers::ServeDialect {
 public:
  std::string_view name() const override { return "bridge"; }
  void feed(std::string_view bytes) override { requests_.feed(bytes); }
  bool next_request(std::string& r) override { return requests_.next(r); }
  void reset() override { requests_.reset(); }
  // A ping is a ping: its sequence number and send time are the host's own.
  std::string key(const std::string& request) const override {
    const auto e = decode_frame(request);
    if (e && e->has_sync_request()) return "sync_request";
    return request;
  }
  std::vector<std::string> split_replies(const std::string& chunk) override {
    std::vector<std::string> out;
    replies_.feed(chunk);
    std::string frame;
    while (replies_.next(frame)) out.push_back(std::move(frame));
    return out;
  }
  bool unsolicited(const std::string& message) const override {
    const auto e = decode_frame(message);
    return !e || !(e->has_sync_reply() || e->has_status());
  }
  void matched(const std::string& recorded, const std::string& live) override {
    const auto r = decode_frame(recorded), l = decode_frame(live);
    if (r && l && r->has_sync_request() && l->has_sync_request()) {
      drivers::remember_bounded(pings_, r->sync_request().seq(),
                               Ping{l->sync_request().seq(), l->sync_request().t1_host_ns()});
    }
  }
  // A recorded ping reply answers the live ping: its seq and t1 echo the live ones; the device's
  // tick stamps stay as recorded.
  std::string patch(const std::string& message) const override {
    auto e = decode_frame(message);
    if (!e || !e->has_sync_reply()) return message;
    const auto it = pings_.find(e->sync_reply().seq());
    if (it == pings_.end()) return message;
    e->mutable_sync_reply()->set_seq(it->second.seq);
    e->mutable_sync_reply()->set_t1_host_ns(it->second.t1_ns);
    const std::vector<uint8_t> bytes = encode_envelope_frame(*e);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

 private:
  struct Ping {
    uint32_t seq;
    int64_t t1_ns;
  };
  drivers::TerminatedFramer requests_{'\0'};
  drivers::TerminatedFramer replies_{'\0'};
  std::map<uint32_t, Ping> pings_;
};

}  // namespace

std::unique_ptr<drivers::ServeDialect> make_bridge_serve_dialect() { return std::make_unique<BridgeDialect>(); }

}  // namespace opsync::drivers::bridge
