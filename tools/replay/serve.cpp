// Recorded instruments: the request/reply bookkeeping of RecordedDevice, and the server loop
// that puts them on TCP ports and pseudo-terminals with a station.toml for opsyncd.
#include "replay/serve.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>
#include <toml++/toml.h>

#include "clock/clock.h"
#include "core/time_format.h"
#include "replay/redrive.h"
#include "runtime/sim_clock_file.h"
#include "sim/sim_server.h"

namespace opsync::replay {

namespace fs = std::filesystem;
namespace asio = boost::asio;

RecordedExchange build_exchange(const std::vector<Step>& steps, ServeDialect& framing) {
  RecordedExchange ex;
  bool connected_once = false;
  for (const Step& s : steps) {
    switch (s.kind) {
      case StepKind::kConnect:
        if (!connected_once) ex.first_connect_ns = s.t_ns;
        connected_once = true;
        framing.reset();
        break;
      case StepKind::kOut: {
        framing.feed(s.bytes);
        std::string r;
        while (framing.next_request(r)) {
          std::string key = framing.key(r);
          ex.requests.push_back(RecordedRequest{s.t_ns, std::move(r), std::move(key), {}});
        }
        break;
      }
      case StepKind::kIn:
        for (std::string& m : framing.split_replies(s.bytes)) {
          if (ex.requests.empty() || framing.unsolicited(m)) {
            ex.unsolicited.push_back(RecordedMessage{s.t_ns, std::move(m)});
          } else {
            ex.requests.back().replies.push_back(RecordedMessage{s.t_ns, std::move(m)});
          }
        }
        break;
      default:
        break;
    }
  }
  if (!connected_once && !steps.empty()) ex.first_connect_ns = steps.front().t_ns;
  return ex;
}

RecordedDevice::RecordedDevice(RecordedExchange exchange, std::unique_ptr<ServeDialect> dialect)
    : ex_(std::move(exchange)), dialect_(std::move(dialect)) {}

void RecordedDevice::on_connect(int64_t t_ns) {
  dialect_->reset();
  if (!anchored_) {
    // Until the first request, what the instrument sent unasked keeps its spacing from the connect.
    offset_ns_ = t_ns - ex_.first_connect_ns;
    anchored_ = true;
  }
}

void RecordedDevice::on_disconnect(int64_t /*t_ns*/) {
  due_.clear();  // answers for a connection that is gone
  dialect_->reset();
}

void RecordedDevice::schedule(int64_t t_ns, std::string bytes) {
  Due d{t_ns, order_++, std::move(bytes)};
  auto it = std::upper_bound(due_.begin(), due_.end(), d, [](const Due& a, const Due& b) {
    return a.t_ns != b.t_ns ? a.t_ns < b.t_ns : a.order < b.order;
  });
  due_.insert(it, std::move(d));
}

void RecordedDevice::on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) {
  dialect_->feed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  std::string request;
  while (dialect_->next_request(request)) {
    ++stats_.requests;
    const std::string key = dialect_->key(request);
    const size_t end = std::min(ex_.requests.size(), next_request_ + kMatchWindow);
    size_t j = next_request_;
    while (j < end && ex_.requests[j].key != key) ++j;
    if (j == end) {
      ++stats_.unmatched;
      continue;
    }
    const RecordedRequest& rec = ex_.requests[j];
    stats_.skipped += j - next_request_;
    next_request_ = j + 1;
    ++stats_.answered;
    dialect_->matched(rec.bytes, request);
    offset_ns_ = t_ns - rec.t_ns;
    anchored_ = true;
    for (const RecordedMessage& m : rec.replies) schedule(t_ns + (m.t_ns - rec.t_ns), dialect_->patch(m.bytes));
  }
}

void RecordedDevice::on_tick(int64_t t_ns) {
  for (;;) {
    const bool have_reply = !due_.empty() && due_.front().t_ns <= t_ns;
    const bool have_unasked = anchored_ && next_unsolicited_ < ex_.unsolicited.size() &&
                              ex_.unsolicited[next_unsolicited_].t_ns + offset_ns_ <= t_ns;
    if (!have_reply && !have_unasked) return;
    const bool reply_first =
        have_reply && (!have_unasked || due_.front().t_ns <= ex_.unsolicited[next_unsolicited_].t_ns + offset_ns_);
    if (reply_first) {
      out_.insert(out_.end(), due_.front().bytes.begin(), due_.front().bytes.end());
      due_.erase(due_.begin());
    } else {
      const std::string bytes = dialect_->patch(ex_.unsolicited[next_unsolicited_++].bytes);
      out_.insert(out_.end(), bytes.begin(), bytes.end());
      ++stats_.unsolicited_sent;
    }
  }
}

int64_t RecordedDevice::next_deadline_ns() const {
  int64_t t = drivers::kNoDeadline;
  if (!due_.empty()) t = due_.front().t_ns;
  if (anchored_ && next_unsolicited_ < ex_.unsolicited.size()) {
    t = std::min(t, ex_.unsolicited[next_unsolicited_].t_ns + offset_ns_);
  }
  return t;
}

std::vector<uint8_t> RecordedDevice::take_output() {
  std::vector<uint8_t> out;
  out.swap(out_);
  return out;
}

bool RecordedDevice::played_out() const {
  return next_request_ >= ex_.requests.size() && next_unsolicited_ >= ex_.unsolicited.size() && due_.empty();
}

namespace {

struct Served {
  std::string name;
  std::unique_ptr<RecordedDevice> device;
  std::unique_ptr<sim::SimEndpoint> endpoint;
  int64_t last_recorded_ns = 0;
};

// The recorded station.toml, pointed at the served instruments and the served clock.
std::string served_station_toml(const std::string& recorded_text, const std::string& session,
                                const std::map<std::string, std::string>& addresses, const std::string& note) {
  toml::table doc = toml::parse(recorded_text);
  toml::table station{{"db", "station.db"}, {"session", session}, {"note", note}};
  doc.insert_or_assign("station", std::move(station));
  doc.insert_or_assign("clock", toml::table{{"mode", "sim"}, {"sim_clock_file", "clock.json"}});
  doc.insert_or_assign("status", toml::table{{"http", "127.0.0.1:0"}, {"line", false}});
  toml::array sources;
  if (auto* arr = doc["source"].as_array()) {
    for (auto& node : *arr) {
      auto* t = node.as_table();
      if (!t) continue;
      const auto name = (*t)["name"].value<std::string>();
      if (!name || !addresses.count(*name)) continue;
      toml::table copy = *t;
      copy.insert_or_assign("address", addresses.at(*name));
      sources.push_back(std::move(copy));
    }
  }
  doc.insert_or_assign("source", std::move(sources));
  std::ostringstream out;
  out << doc << "\n";
  return out.str();
}

}  // namespace

void run_serve(ReplayInput& input, const std::string& config_override, const ServeOptions& o) {
  const std::vector<runtime::StationConfig> configs = replay_configs(input, config_override);
  const std::string config_text = config_override.empty() ? input.configs.back().text : configs.back().text;
  fs::create_directories(o.out_dir);
  // Simulation time: the recording's own, starting lead_s before its first capture.
  const clock::SimClock clock(input.first_t_ns - static_cast<int64_t>(o.lead_s * 1e9), clock::monotonic_now_ns(), o.speed);

  asio::io_context io;
  std::vector<Served> served;
  std::map<std::string, std::string> addresses;
  for (size_t i = 0; i < input.sources.size(); ++i) {
    const SourceInfo& src = input.sources[i];
    if (src.captures == 0) continue;
    const runtime::SourceConfig* sc = nullptr;
    for (const auto& c : configs) {
      for (const auto& s : c.sources) {
        if (s.name == src.name) sc = &s;
      }
    }
    if (!sc) {
      fmt::print(stderr, "opsync replay --serve: source '{}' is not in the station configuration: not served\n",
                 src.name);
      continue;
    }
    std::vector<Step> steps;
    input.for_each_step(i, [&](const Step& s) { steps.push_back(s); });
    auto framing = make_serve_dialect(*sc);
    Served s;
    s.name = src.name;
    s.last_recorded_ns = steps.empty() ? 0 : steps.back().t_ns;
    s.device = std::make_unique<RecordedDevice>(build_exchange(steps, *framing), make_serve_dialect(*sc));
    if (std::holds_alternative<runtime::TcpAddress>(sc->address)) {
      s.endpoint = std::make_unique<sim::TcpSimServer>(io, clock, *s.device, src.name, 0);
    } else {
      s.endpoint = std::make_unique<sim::PtySimServer>(io, clock, *s.device, src.name,
                                                       (fs::absolute(o.out_dir) / (src.name + ".tty")).string());
    }
    s.endpoint->start();
    std::string where = s.endpoint->where();
    if (const auto* serial = std::get_if<runtime::SerialAddress>(&sc->address)) {
      // Same line settings as recorded (a pseudo-terminal notes what it cannot apply).
      where += fmt::format("?baud={}&rtscts={}&stopbits={}", serial->baud, serial->rtscts ? 1 : 0, serial->stop_bits);
    }
    addresses[src.name] = where;
    served.push_back(std::move(s));
  }
  if (served.empty()) throw ReplayError(fmt::format("{}: no source with captures to serve", input.origin));

  runtime::write_sim_clock_file(o.out_dir + "/clock.json", clock);
  const std::string session = o.session.empty() ? input.session.name + "-served" : o.session;
  {
    // Written last and atomically: its appearance tells scripts the instruments are up.
    std::ofstream(o.out_dir + "/station.toml.tmp")
        << "# Written by `opsync replay --serve` for " << input.origin << " (speed x" << o.speed << ").\n"
        << served_station_toml(config_text, session, addresses, fmt::format("served from {}", input.origin));
    fs::rename(o.out_dir + "/station.toml.tmp", o.out_dir + "/station.toml");
  }
  fmt::print(stderr, "opsync replay --serve: {} at x{:g}, recorded {} .. {}\n", input.origin, o.speed,
             format_iso_utc(input.first_t_ns, 0), format_iso_utc(input.last_t_ns, 0));
  for (const auto& [name, where] : addresses) fmt::print(stderr, "  {:<10} {}\n", name, where);
  fmt::print(stderr, "  wrote {0}/station.toml and {0}/clock.json: run `opsyncd --config {0}/station.toml`\n", o.out_dir);

  // Done when every recording is played out, or its recorded span (plus a grace) is over.
  const int64_t grace_ns = static_cast<int64_t>(std::max(10.0, 2.0 * o.speed) * 1e9);
  asio::steady_timer check(io);
  std::function<void()> watch = [&] {
    check.expires_after(std::chrono::milliseconds(200));
    check.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      const int64_t now = clock.now_ns();
      const bool done = std::all_of(served.begin(), served.end(), [&](const Served& s) {
        return s.device->played_out() || now > s.last_recorded_ns + s.device->offset_ns() + grace_ns;
      });
      if (done) {
        io.stop();
        return;
      }
      watch();
    });
  };
  watch();
  asio::steady_timer end_timer(io);
  if (o.duration_s > 0) {
    end_timer.expires_after(std::chrono::microseconds(static_cast<int64_t>(o.duration_s * 1e6)));
    end_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) io.stop();
    });
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  io.run();
  for (auto& s : served) s.endpoint->stop();
  for (const auto& s : served) {
    const auto& st = s.device->stats();
    fmt::print(stderr, "  {:<10} {} requests: {} answered from the recording, {} unmatched; {} recorded requests "
               "skipped; {} messages sent unasked\n",
               s.name, st.requests, st.answered, st.unmatched, st.skipped, st.unsolicited_sent);
  }
}

}  // namespace opsync::replay
