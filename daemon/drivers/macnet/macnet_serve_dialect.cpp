// MacNet serve dialects: JSON (ids rewritten) and binary (as recorded).
#include "drivers/macnet/macnet_serve_dialect.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "drivers/serve_framing.h"

namespace opsync::drivers::macnet {
namespace {

class MacnetBinaryDialect final : public ServeDialect {
 public:
  std::string_view name() const override { return "macnet binary"; }
  void feed(std::string_view bytes) override {
    buf_.append(bytes);
    if (buf_.size() > kMaxServeRequestBytes) buf_.clear();
  }
  bool next_request(std::string& r) override {
    if (buf_.size() < macnet::kHeaderSize) return false;
    const auto h = macnet::decode_header(std::span(reinterpret_cast<const uint8_t*>(buf_.data()), macnet::kHeaderSize));
    // A class-0 (echo) message carries Len data bytes; a read request is its header only.
    const size_t size = macnet::kHeaderSize + (h.fclass == macnet::kFClassEcho ? h.len : 0);
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

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class MacnetJsonDialect final : public ServeDialect {
 public:
  std::string_view name() const override { return "macnet json"; }
  void feed(std::string_view bytes) override {
    framer_.feed(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
  bool next_request(std::string& r) override {
    for (;;) {
      auto res = framer_.next();
      if (res.status == macnet::JsonObjectFramer::Status::kNeedMore) return false;
      if (res.status == macnet::JsonObjectFramer::Status::kObject) {
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
    if (r && l) remember_bounded(ids_, *r, *l);
  }
  // The reply's "id" member gets the live request's id (text edit: the layout stays as recorded).
  std::string patch(const std::string& message) const override {
    const size_t key = message.find("\"id\"");
    if (key == std::string::npos) return message;
    size_t p = key + 4;
    while (p < message.size() && is_json_space(message[p])) ++p;
    if (p >= message.size() || message[p] != ':') return message;
    ++p;
    while (p < message.size() && is_json_space(message[p])) ++p;
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
  macnet::JsonObjectFramer framer_{/*require_crlf=*/false};
  std::map<int64_t, int64_t> ids_;
};

}  // namespace

std::unique_ptr<ServeDialect> make_macnet_serve_dialect(macnet::Mode mode) {
  if (mode == macnet::Mode::kBinary) return std::make_unique<MacnetBinaryDialect>();
  return std::make_unique<MacnetJsonDialect>();
}

}  // namespace opsync::drivers::macnet
