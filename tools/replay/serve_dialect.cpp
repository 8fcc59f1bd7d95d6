// Serve dialects of the three drivers: MacNet (JSON ids rewritten; binary as is), SRS RGA
// (CR-terminated commands, answers as is), trigger bridge (COBS frames; ping replies rewritten,
// edges and heartbeats unasked).
#include "replay/serve_dialect.h"

#include <cstring>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

#include "drivers/bridge/bridge_codec.h"
#include "drivers/bridge/frame.h"
#include "drivers/macnet/macnet_codec.h"
#include "replay/replay_input.h"

namespace opsync::replay {
namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;  // a runaway partial request is dropped
constexpr size_t kMaxRemembered = 512;          // id rewrites kept (far more than requests in flight)

template <typename K, typename V>
void remember(std::map<K, V>& m, const K& key, const V& value) {
  m[key] = value;
  while (m.size() > kMaxRemembered) m.erase(m.begin());
}

// Requests ending with a terminator byte (the RGA's CR, the bridge's frame delimiter).
class TerminatedFramer {
 public:
  explicit TerminatedFramer(char terminator) : terminator_(terminator) {}
  void feed(std::string_view bytes) {
    buf_.append(bytes);
    if (buf_.size() > kMaxRequestBytes) buf_.clear();
  }
  bool next(std::string& out) {
    const size_t end = buf_.find(terminator_);
    if (end == std::string::npos) return false;
    out = buf_.substr(0, end + 1);
    buf_.erase(0, end + 1);
    return true;
  }
  void reset() { buf_.clear(); }

 private:
  char terminator_;
  std::string buf_;
};

class RgaDialect final : public ServeDialect {
 public:
  std::string_view name() const override { return "rga"; }
  void feed(std::string_view bytes) override { framer_.feed(bytes); }
  bool next_request(std::string& r) override { return framer_.next(r); }
  void reset() override { framer_.reset(); }

 private:
  TerminatedFramer framer_{'\r'};
};

class MacnetBinaryDialect final : public ServeDialect {
 public:
  std::string_view name() const override { return "macnet binary"; }
  void feed(std::string_view bytes) override {
    buf_.append(bytes);
    if (buf_.size() > kMaxRequestBytes) buf_.clear();
  }
  bool next_request(std::string& r) override {
    if (buf_.size() < daemon::macnet::kHeaderSize) return false;
    const auto h = daemon::macnet::decode_header(
        std::span(reinterpret_cast<const uint8_t*>(buf_.data()), daemon::macnet::kHeaderSize));
    // A class-0 (echo) message carries Len data bytes; a read request is its header only.
    const size_t size = daemon::macnet::kHeaderSize + (h.fclass == daemon::macnet::kFClassEcho ? h.len : 0);
    if (buf_.size() < size) return false;
    r = buf_.substr(0, size);
    buf_.erase(0, size);
    return true;
  }
  void reset() override { buf_.clear(); }

 private:
  std::string buf_;
};

std::optional<int64_t> json_id(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer()) return std::nullopt;
  return j["id"].get<int64_t>();
}

class MacnetJsonDialect final : public ServeDialect {
 public:
  std::string_view name() const override { return "macnet json"; }
  void feed(std::string_view bytes) override {
    framer_.feed(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
  bool next_request(std::string& r) override {
    for (;;) {
      auto res = framer_.next();
      if (res.status == daemon::macnet::JsonObjectFramer::Status::kNeedMore) return false;
      if (res.status == daemon::macnet::JsonObjectFramer::Status::kObject) {
        r = res.text;
        return true;
      }
    }
  }
  void reset() override { framer_.clear(); }
  // The request without its id: the id is the client's counter, not part of the question.
  std::string key(const std::string& request) const override {
    auto j = nlohmann::ordered_json::parse(request, nullptr, false);
    if (!j.is_object()) return request;
    j.erase("id");
    return j.dump();
  }
  void matched(const std::string& recorded, const std::string& live) override {
    const auto r = json_id(recorded), l = json_id(live);
    if (r && l) remember(ids_, *r, *l);
  }
  // The reply's "id" member gets the live request's id (text edit: the layout stays as recorded).
  std::string patch(const std::string& message) const override {
    const size_t key = message.find("\"id\"");
    if (key == std::string::npos) return message;
    size_t p = key + 4;
    while (p < message.size() && (message[p] == ' ' || message[p] == '\t' || message[p] == '\r' || message[p] == '\n')) ++p;
    if (p >= message.size() || message[p] != ':') return message;
    ++p;
    while (p < message.size() && (message[p] == ' ' || message[p] == '\t' || message[p] == '\r' || message[p] == '\n')) ++p;
    size_t end = p;
    if (end < message.size() && message[end] == '-') ++end;
    while (end < message.size() && message[end] >= '0' && message[end] <= '9') ++end;
    if (end == p) return message;
    int64_t recorded = 0;
    try {
      recorded = std::stoll(message.substr(p, end - p));
    } catch (const std::exception&) {
      return message;
    }
    const auto it = ids_.find(recorded);
    if (it == ids_.end()) return message;
    return message.substr(0, p) + std::to_string(it->second) + message.substr(end);
  }

 private:
  daemon::macnet::JsonObjectFramer framer_{/*require_crlf=*/false};
  std::map<int64_t, int64_t> ids_;
};

std::optional<bridge::Envelope> decode_frame(const std::string& frame) {
  bridge::FrameDecoder d;
  bridge::FrameResult r;
  for (unsigned char c : frame) {
    if (d.push(c, &r)) {
      if (r.status != bridge::FrameStatus::ok) return std::nullopt;
      return bridge::decode_envelope(r.payload);
    }
  }
  return std::nullopt;
}

class BridgeDialect final : public ServeDialect {
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
      remember(pings_, r->sync_request().seq(), Ping{l->sync_request().seq(), l->sync_request().t1_host_ns()});
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
    const std::vector<uint8_t> bytes = bridge::encode_envelope_frame(*e);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

 private:
  struct Ping {
    uint32_t seq;
    int64_t t1_ns;
  };
  TerminatedFramer requests_{'\0'};
  TerminatedFramer replies_{'\0'};
  std::map<uint32_t, Ping> pings_;
};

}  // namespace

std::unique_ptr<ServeDialect> make_serve_dialect(const daemon::SourceConfig& source) {
  if (source.driver == "rga") return std::make_unique<RgaDialect>();
  if (source.driver == "bridge") return std::make_unique<BridgeDialect>();
  if (source.driver == "macnet") {
    daemon::ConfigTable t = *source.options;
    const std::string mode = t.str("mode").value_or("json");
    if (mode == "binary") return std::make_unique<MacnetBinaryDialect>();
    return std::make_unique<MacnetJsonDialect>();
  }
  throw ReplayError(fmt::format("source '{}': cannot serve driver '{}'", source.name, source.driver));
}

}  // namespace opsync::replay
