// Connection lifecycle, byte pumping, timers and backoff for one source.
#include "runtime/source_runner.h"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace opsync::runtime {

namespace asio = boost::asio;

const char* to_string(LinkState s) {
  switch (s) {
    case LinkState::Connecting: return "connecting";
    case LinkState::Connected: return "connected";
    case LinkState::Backoff: return "waiting to reconnect";
    case LinkState::Stopped: return "stopped";
  }
  return "?";
}

SourceRunner::SourceRunner(asio::io_context& io, const clock::Clock& clock, SourceConfig config,
                           std::unique_ptr<drivers::Driver> driver, SourceRecorder& recorder, TransportFactory make_link)
    : io_(io), clock_(clock), config_(std::move(config)), driver_(std::move(driver)), recorder_(recorder),
      make_link_(std::move(make_link)),
      tick_timer_(io), reconnect_timer_(io), watchdog_timer_(io), backoff_s_(config_.reconnect_min_s) {}

SourceRunner::~SourceRunner() {
  if (transport_) transport_->close();
}

void SourceRunner::start() { connect(); }

void SourceRunner::resume_after(int64_t last_data_t_ns, std::string reason) {
  disconnected_at_t_ns_ = last_data_t_ns;
  disconnect_reason_ = std::move(reason);
}

namespace {

// What a failed connect means for the operator at the terminal.
std::string connect_failure_text(const SourceConfig& config, const ErrorCode& ec) {
  if (const auto* serial = std::get_if<SerialAddress>(&config.address);
      serial && ec == boost::system::errc::no_such_file_or_directory) {
    return fmt::format("serial device {} does not exist (unplugged, or a wrong name in the address?)", serial->device);
  }
  return fmt::format("{}: {}", config.address_text, ec.message());
}

}  // namespace

void SourceRunner::connect() {
  if (status_.state == LinkState::Stopped) return;
  status_.state = LinkState::Connecting;
  transport_ = make_link_(io_, config_.address);
  const uint64_t gen = ++generation_;
  transport_->async_connect([this, gen](const ErrorCode& ec) { on_connected(gen, ec); });
}

void SourceRunner::on_connected(uint64_t gen, const ErrorCode& ec) {
  if (gen != generation_ || status_.state == LinkState::Stopped) return;
  const int64_t now = clock_.now_ns();
  if (ec) {
    status_.last_error = ec.message();
    // Logged once per outage, not on every retry, so a long outage does not flood the events;
    // and said on the terminal, where the operator is looking.
    if (!last_connect_failed_) {
      recorder_.event(now, "connect_failed", fmt::format("{}: {} (retrying with backoff)", config_.address_text,
                                                         ec.message()));
      fmt::print(stderr, "{}opsyncd: source '{}': cannot connect: {} (retrying with backoff)\n",
                 isatty(fileno(stderr)) ? "\r\033[K" : "", config_.name, connect_failure_text(config_, ec));
    }
    last_connect_failed_ = true;
    ++generation_;
    transport_->close();
    schedule_reconnect();
    return;
  }
  status_.state = LinkState::Connected;
  last_connect_failed_ = false;
  ++status_.connects;
  connected_at_mono_ns_ = clock::monotonic_now_ns();
  last_rx_mono_ns_ = connected_at_mono_ns_;
  recorder_.event(now, "connected", config_.address_text);
  if (auto w = transport_->warning(); !w.empty()) recorder_.event(now, "link_warning", w);
  awaiting_first_data_ = disconnected_at_t_ns_ != 0;
  call_t_ns_ = now;
  driver_->on_connect(*this, now);
  read_loop(gen);
  schedule_tick(gen);
  if (config_.read_timeout_s > 0) {
    // Watchdog: no bytes at all for read_timeout_s means a stalled link.
    auto check = std::make_shared<std::function<void()>>();
    *check = [this, gen, check] {
      watchdog_timer_.expires_after(std::chrono::milliseconds(200));
      watchdog_timer_.async_wait([this, gen, check](const ErrorCode& e) {
        if (e || gen != generation_ || status_.state != LinkState::Connected) return;
        if (static_cast<double>(clock::monotonic_now_ns() - last_rx_mono_ns_) > config_.read_timeout_s * 1e9) {
          drop_link(fmt::format("no data for {:.1f} s", config_.read_timeout_s));
          return;
        }
        (*check)();
      });
    };
    (*check)();
  }
}

void SourceRunner::read_loop(uint64_t gen) {
  transport_->async_read_some(read_buf_.data(), read_buf_.size(), [this, gen](const ErrorCode& ec, size_t n) {
    if (gen != generation_ || status_.state == LinkState::Stopped) return;
    if (ec) {
      drop_link(ec == asio::error::eof ? "closed by the instrument" : ec.message());
      return;
    }
    const int64_t now = clock_.now_ns();
    last_rx_mono_ns_ = clock::monotonic_now_ns();
    const std::span<const uint8_t> bytes(read_buf_.data(), n);
    recorder_.capture(now, records::CaptureKind::kIn, bytes);
    if (awaiting_first_data_) {
      awaiting_first_data_ = false;
      const int64_t gap_from = status_.last_data_t_ns ? status_.last_data_t_ns : disconnected_at_t_ns_;
      recorder_.event(gap_from, "gap",
                      fmt::format("{:.3f} s without data ({})", static_cast<double>(now - gap_from) / 1e9,
                                  disconnect_reason_));
    }
    status_.last_data_t_ns = now;
    call_t_ns_ = now;
    driver_->on_bytes(*this, bytes, now);
    if (gen != generation_) return;  // the driver asked for a reconnect
    schedule_tick(gen);
    read_loop(gen);
  });
}

void SourceRunner::schedule_tick(uint64_t gen) {
  const int64_t deadline = driver_->next_deadline_ns();
  if (deadline == drivers::kNoDeadline) {
    tick_timer_.cancel();
    return;
  }
  const int64_t wait_ref = std::max<int64_t>(0, deadline - clock_.now_ns());
  tick_timer_.expires_after(std::chrono::nanoseconds(clock_.to_monotonic_duration_ns(wait_ref)));
  tick_timer_.async_wait([this, gen](const ErrorCode& ec) {
    if (ec || gen != generation_ || status_.state != LinkState::Connected) return;
    const int64_t now = clock_.now_ns();
    if (now >= driver_->next_deadline_ns()) {
      call_t_ns_ = now;
      const uint64_t sends_before = sends_;
      driver_->on_tick(*this, now);
      // A tick that sent something is known to a replay by the time of what it sent; one that
      // sent nothing (a timeout, a wait that ended) is recorded on its own.
      if (sends_ == sends_before) recorder_.tick(now);
    }
    if (gen != generation_) return;
    schedule_tick(gen);
  });
}

void SourceRunner::send(std::span<const uint8_t> bytes) {
  if (status_.state != LinkState::Connected || bytes.empty()) return;
  ++sends_;
  // The write goes first (asio writes at once when the link is idle), the capture after it:
  // drivers stamp requests just before sending them (a bridge ping's t1), and handing a record
  // to the store thread is not free, so it must not sit between the stamp and the write. The
  // capture carries the time of the driver call that sent it, so a replay can re-create it.
  write_queue_.push_back(std::make_shared<const std::vector<uint8_t>>(bytes.begin(), bytes.end()));
  if (!writing_) write_next(generation_);
  recorder_.capture(call_t_ns_, records::CaptureKind::kOut, bytes);
}

void SourceRunner::write_next(uint64_t gen) {
  if (write_queue_.empty()) {
    writing_ = false;
    if (stop_done_ && status_.state == LinkState::Stopped) {
      auto done = std::move(stop_done_);
      stop_done_ = nullptr;
      transport_->close();
      done();
    }
    return;
  }
  writing_ = true;
  auto data = write_queue_.front();
  transport_->async_write(data, [this, gen](const ErrorCode& ec) {
    if (gen != generation_) return;
    if (!write_queue_.empty()) write_queue_.pop_front();
    if (ec) {
      writing_ = false;
      if (status_.state != LinkState::Stopped) drop_link("write failed: " + ec.message());
      return;
    }
    write_next(gen);
  });
}

void SourceRunner::sample(size_t channel_index, int64_t t_ns, double value) { recorder_.sample(channel_index, t_ns, value); }
void SourceRunner::event(int64_t t_ns, std::string_view kind, std::string detail) {
  recorder_.event(t_ns, kind, std::move(detail));
}
void SourceRunner::scan(const records::Scan& s) { recorder_.scan(s); }
void SourceRunner::clock_model(const records::ClockModel& model) { recorder_.clock_model(model); }

void SourceRunner::request_reconnect(std::string reason) {
  // Called from inside a driver callback: stop feeding this link right away (new generation),
  // unwind, then drop it.
  const uint64_t gen = ++generation_;
  asio::post(io_, [this, gen, reason = std::move(reason)] {
    if (gen == generation_ && status_.state == LinkState::Connected) drop_link(reason);
  });
}

void SourceRunner::drop_link(const std::string& reason) {
  const int64_t now = clock_.now_ns();
  ++generation_;
  tick_timer_.cancel();
  watchdog_timer_.cancel();
  write_queue_.clear();
  writing_ = false;
  if (transport_) transport_->close();
  ++status_.disconnects;
  status_.last_error = reason;
  disconnected_at_t_ns_ = now;
  disconnect_reason_ = reason;
  recorder_.event(now, "disconnected", reason);
  // The link is closed: anything the driver sends from on_disconnect goes nowhere (and is not
  // captured, so a replay sees the same).
  status_.state = LinkState::Backoff;
  call_t_ns_ = now;
  driver_->on_disconnect(*this, now);
  // A link that held for a while starts the backoff afresh.
  if (clock::monotonic_now_ns() - connected_at_mono_ns_ > 5'000'000'000) backoff_s_ = config_.reconnect_min_s;
  schedule_reconnect();
}

void SourceRunner::schedule_reconnect() {
  if (status_.state == LinkState::Stopped) return;
  status_.state = LinkState::Backoff;
  reconnect_timer_.expires_after(std::chrono::microseconds(static_cast<int64_t>(backoff_s_ * 1e6)));
  backoff_s_ = std::min(backoff_s_ * 2, config_.reconnect_max_s);
  reconnect_timer_.async_wait([this](const ErrorCode& ec) {
    if (!ec) connect();
  });
}

void SourceRunner::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  const bool was_connected = status_.state == LinkState::Connected;
  const int64_t now = clock_.now_ns();
  call_t_ns_ = now;
  if (was_connected) driver_->on_stop(*this, now);
  status_.state = LinkState::Stopped;
  reconnect_timer_.cancel();
  tick_timer_.cancel();
  watchdog_timer_.cancel();
  if (was_connected) driver_->on_disconnect(*this, now);
  recorder_.event(now, "stopped", "");
  if (!writing_ || !was_connected) {
    if (transport_) transport_->close();
    ++generation_;
    asio::post(io_, std::move(done));
    return;
  }
  // Let the stop sequence leave, but not for longer than the grace period.
  stop_done_ = std::move(done);
  reconnect_timer_.expires_after(grace);
  reconnect_timer_.async_wait([this](const ErrorCode&) {
    if (!stop_done_) return;
    auto d = std::move(stop_done_);
    stop_done_ = nullptr;
    ++generation_;
    if (transport_) transport_->close();
    d();
  });
}

}  // namespace opsync::runtime
