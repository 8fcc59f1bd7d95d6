// Station set-up, status and orderly shutdown.
#include "runtime/station.h"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <unistd.h>

#include "core/time_format.h"
#include "runtime/instance_lock.h"
#include "runtime/status_http.h"
#include "runtime/store_location.h"
#include "runtime/utf8_text.h"
#include "store/reader.h"

namespace opsync::runtime {

Station::Station(boost::asio::io_context& io, StationConfig config, const clock::Clock& clock, DriverFactory factory,
                 TransportFactory make_link)
    : io_(io), config_(std::move(config)), clock_(clock), factory_(std::move(factory)), make_link_(std::move(make_link)),
      status_timer_(io) {}

Station::~Station() = default;

void Station::start() {
  if (const std::string why = store_not_writable_reason(config_.db_path); !why.empty()) {
    throw ConfigError(fmt::format("{}: cannot record into {}: {}", config_.db_where, config_.db_path, why));
  }
  lock_ = InstanceLock::acquire(runtime_file(), config_.db_path);
  try {
    start_locked();
  } catch (...) {
    if (http_) http_->stop();
    runners_.clear();
    recorders_.clear();
    writer_.reset();  // its last commit before the next daemon may start
    lock_->abandon();
    throw;
  }
}

void Station::start_locked() {
  const std::string http_configured = config_.http_listen;
  lock_->publish({{"pid", getpid()}, {"session", config_.session}, {"http", http_configured}, {"starting", true}});

  // A session that was closed is a finished record: refuse to append to it. One that is still
  // open, now that this daemon holds the lock, was left by a run that ended without a stop
  // (kill -9, a crash, a power cut): it is resumed, and the outage recorded.
  bool resuming = false;
  std::optional<int64_t> last_record_ns;
  std::map<std::string, int64_t> last_data_ns;  // by source name
  if (std::filesystem::exists(config_.db_path)) {
    store::StoreReader reader(config_.db_path);
    if (auto s = reader.find_session(config_.session)) {
      if (s->ended_ns != 0) {
        throw ConfigError(fmt::format("{}: session '{}' in {} was closed at {}; set [station] session to a new name",
                                      config_.file, config_.session, config_.db_path, format_iso_utc(s->ended_ns, 3)));
      }
      resuming = true;
      last_record_ns = reader.last_record_ns(s->id);
      for (const auto& src : reader.sources(s->id)) {
        if (auto t = reader.last_data_ns(src.id)) last_data_ns[src.name] = *t;
      }
    }
  }
  // Build every driver first: a bad driver key stops the start before anything is written.
  std::vector<std::unique_ptr<drivers::Driver>> drivers;
  for (const SourceConfig& sc : config_.sources) drivers.push_back(factory_(sc));

  // The status port is bound before the store is touched: a port in use is a configuration
  // error that must not leave a session behind.
  if (!config_.http_listen.empty()) {
    http_ = std::make_unique<StatusHttpServer>(
        io_, StatusHttpHandlers{[this] { return status_json(); }, [this](std::string_view text) { return mark(text); }});
    if (const auto ec = http_->bind(config_.http)) {
      std::string hint = "set [status] http to another address, port 0 for any free one, or \"\" for none";
      if (ec == boost::asio::error::address_in_use) hint = "another program listens there; " + hint;
      if (ec == boost::system::errc::address_not_available) hint = "this host has no such address; " + hint;
      throw ConfigError(fmt::format("{}: cannot listen on {}: {} ({})", config_.http_where, config_.http_listen,
                                    ec.message(), hint));
    }
  }

  store::WriterOptions wo;
  wo.batch_max_samples = config_.batch_max_samples;
  wo.batch_max_age = std::chrono::milliseconds(static_cast<int64_t>(config_.batch_max_age_s * 1000));
  wo.on_disk_full = [this](const store::DiskFullReport& r) { boost::asio::post(io_, [this, r] { on_disk_full(r); }); };
  writer_ = std::make_unique<store::StoreWriter>(config_.db_path, wo);
  disk_watch_ = std::make_unique<store::DiskSpaceWatch>(config_.db_path);
  started_ns_ = clock_.now_ns();
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  session_id_ = writer_->open_session(records::Session{0, config_.session, started_ns_, 0, host, config_.note});
  if (resuming) {
    // At the last thing the previous run recorded: the latest moment it is known to have lived.
    const int64_t t = last_record_ns.value_or(started_ns_);
    const auto& prev = lock_->previous();
    const std::string who = prev.is_object() ? fmt::format("opsyncd pid {}", prev.value("pid", 0)) : "opsyncd";
    writer_->push(records::Event{
        session_id_, 0, t, "unclean_stop",
        fmt::format("the previous run ({}) ended without a stop (killed, crashed or lost power); its last record is "
                    "at {}, {:.3f} s before this run resumed the session",
                    who, format_iso_utc(t, 3), static_cast<double>(started_ns_ - t) / 1e9)});
  }
  writer_->push(records::Event{session_id_, 0, started_ns_, "daemon_start",
                             fmt::format("opsyncd, config {}, clock {}{}", config_.file, config_.clock_mode,
                                         resuming ? ", resuming the session after an unclean stop" : "")});
  // The configuration in force from here on, verbatim: `opsync replay` builds the same drivers
  // from it (docs/replay.md). Written at every start, so a resumed session keeps each version.
  writer_->push(records::Event{session_id_, 0, started_ns_, "station_config", config_.text});

  for (size_t i = 0; i < config_.sources.size(); ++i) {
    const SourceConfig& sc = config_.sources[i];
    drivers::Driver& d = *drivers[i];
    const records::SourceId src =
        writer_->open_source(records::Source{0, session_id_, sc.name, std::string(d.kind()), sc.address_text, "",
                                           sc.transport_delay_s});
    std::vector<records::ChannelId> ids;
    for (const drivers::ChannelSpec& c : d.channels()) ids.push_back(writer_->open_channel(records::Channel{0, src, c.name, c.unit, c.quantity}));
    recorders_.push_back(std::make_unique<SourceRecorder>(*writer_, session_id_, src, sc.name, d.channels(), ids, true));
    runners_.push_back(
        std::make_unique<SourceRunner>(io_, clock_, sc, std::move(drivers[i]), *recorders_.back(), make_link_));
    if (auto it = last_data_ns.find(sc.name); it != last_data_ns.end()) {
      runners_.back()->resume_after(it->second, "opsyncd was not running: its previous run ended without a stop");
    }
  }
  // Where this daemon answers, for `opsync mark --db` and other local tools.
  std::string http_address;
  if (http_) {
    const std::string& h = config_.http.host;
    http_address = fmt::format("{}:{}", h.find(':') != std::string::npos ? "[" + h + "]" : h, http_->port());
  }
  lock_->publish({{"pid", getpid()}, {"session", config_.session}, {"http", http_address}});
  for (auto& r : runners_) r->start();
  if (http_) http_->start();
  tick_status();
}

void Station::tick_status() {
  if (stopping_) return;
  check_disk_space();
  if (config_.status_line && isatty(fileno(stderr))) fmt::print(stderr, "\r\033[K{}", status_line());
  status_timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(config_.status_period_s * 1000)));
  status_timer_.async_wait([this](const ErrorCode& ec) {
    if (!ec) tick_status();
  });
}

std::string Station::runtime_file() const { return config_.db_path + ".opsyncd"; }

std::string Station::mark(std::string_view text) {
  const Utf8Text clean = to_valid_utf8(text);
  std::string note;
  if (clean.replaced > 0) {
    note = fmt::format("{} byte sequence{} that {} not UTF-8 replaced by U+FFFD", clean.replaced,
                       clean.replaced == 1 ? "" : "s", clean.replaced == 1 ? "was" : "were");
  }
  writer_->push(records::Event{session_id_, 0, clock_.now_ns(), "mark",
                             note.empty() ? clean.text : fmt::format("{} [opsyncd: {}]", clean.text, note)});
  return note;
}

nlohmann::json Station::status_json() const {
  const int64_t now = clock_.now_ns();
  nlohmann::json j;
  j["session"] = config_.session;
  j["session_id"] = session_id_;
  j["now_utc"] = format_iso_utc(now, 3);
  j["elapsed_s"] = static_cast<double>(now - started_ns_) / 1e9;
  j["clock"] = {{"mode", config_.clock_mode}, {"speed", clock_.speed()}};
  const auto ws = writer_->stats();
  j["store"] = {{"samples_committed", ws.samples_committed}, {"backlog", ws.backlog}, {"batches", ws.batches},
                {"failed_commits", ws.failed_commits}, {"last_error", ws.last_error}, {"disk", disk_json()}};
  nlohmann::json sources = nlohmann::json::array();
  const double elapsed_s = std::max(1e-9, static_cast<double>(now - started_ns_) / 1e9);
  for (const auto& r : runners_) {
    const auto& st = r->status();
    const auto& c = r->driver().counters();
    nlohmann::json s;
    s["name"] = r->config().name;
    s["driver"] = r->config().driver;
    s["address"] = r->config().address_text;
    s["state"] = to_string(st.state);
    s["connects"] = st.connects;
    s["disconnects"] = st.disconnects;
    s["last_error"] = st.last_error;
    s["samples"] = r->recorder().samples();
    s["samples_per_s"] = static_cast<double>(r->recorder().samples()) / elapsed_s;
    s["events"] = r->recorder().events();
    s["scans"] = r->recorder().scans();
    s["counters"] = {{"bytes_in", c.bytes_in}, {"bytes_out", c.bytes_out}, {"messages_ok", c.messages_ok},
                     {"malformed", c.malformed}, {"crc_errors", c.crc_errors}, {"timeouts", c.timeouts},
                     {"events_suppressed", c.events_suppressed},
                     {"events_suppressed_by_kind", c.events_suppressed_by_kind}};
    nlohmann::json chans = nlohmann::json::array();
    for (const auto& ch : r->recorder().channels()) {
      chans.push_back({{"name", ch.name}, {"unit", ch.unit}, {"count", ch.count}, {"last", ch.last_value},
                       {"last_utc", ch.count ? format_iso_utc(ch.last_t_ns, 3) : ""}});
    }
    s["channels"] = chans;
    if (const auto* m = r->recorder().last_clock_model()) {
      s["clock_model"] = {{"method", m->method}, {"offset_ns", m->offset_ns}, {"rate", m->rate},
                          {"residual_rms_ns", m->residual_rms_ns}, {"n_points", m->n_points}};
    }
    sources.push_back(std::move(s));
  }
  j["sources"] = std::move(sources);
  if (http_) {
    const auto hs = http_->stats();
    j["http"] = {{"connections", hs.connections},         {"open_connections", hs.open_connections},
                 {"busy_refusals", hs.busy_refusals},     {"bad_requests", hs.bad_requests},
                 {"handler_errors", hs.handler_errors},   {"accept_errors", hs.accept_errors},
                 {"last_error", hs.last_error}};
  }
  return j;
}

std::string Station::status_line() const {
  const int64_t now = clock_.now_ns();
  std::string line = fmt::format("{} {:.0f}s", config_.session, static_cast<double>(now - started_ns_) / 1e9);
  for (const auto& r : runners_) {
    const auto& st = r->status();
    line += fmt::format(" | {} {}", r->config().name, st.state == LinkState::Connected ? "up" : to_string(st.state));
    const auto& chans = r->recorder().channels();
    // The first two channels with data are the ones a user looks at (V and I; m32 and m44).
    int shown = 0;
    for (const auto& ch : chans) {
      if (ch.count == 0 || shown == 2) continue;
      line += fmt::format(" {}={:.4g}{}", ch.name, ch.last_value, ch.unit);
      ++shown;
    }
    line += fmt::format(" n={}", r->recorder().samples());
  }
  return line + disk_flag();
}

void Station::stop(std::function<void()> done) {
  if (stopping_) return;
  stopping_ = true;
  status_timer_.cancel();
  if (http_) http_->stop();
  if (config_.status_line && isatty(fileno(stderr))) fmt::print(stderr, "\n");
  auto remaining = std::make_shared<size_t>(runners_.size());
  auto finish = [this, done] {
    const int64_t now = clock_.now_ns();
    writer_->push(records::Event{session_id_, 0, now, "daemon_stop", "clean shutdown"});
    writer_->queue_end_session(session_id_, now);
    // Bounded: on a full disk the writer gives up after this and says what it could not write.
    const store::CloseReport r = writer_->close(std::chrono::seconds(5));
    if (r.records_unwritten > 0) {
      fmt::print(stderr, "opsyncd: {} records could not be written to {} before stopping: {}\n", r.records_unwritten,
                 config_.db_path, r.last_error);
    }
    // Only now, with the session closed (or the close given up, said above), may the next
    // daemon start.
    if (lock_) lock_->release();
    done();
  };
  if (runners_.empty()) return boost::asio::post(io_, finish);
  for (auto& r : runners_) {
    r->stop(std::chrono::milliseconds(500), [remaining, finish] {
      if (--*remaining == 0) finish();
    });
  }
}

}  // namespace opsync::runtime
