// The bridge protocol engine; see bridge_core.h.
#include "bridge_core.h"

#include <cstring>

namespace opsync::fw {
namespace {

// The integer in an enum field nanopb decoded. proto3 enums are open: nanopb stores whatever
// number arrived, and reading a number outside the enum's range through the enum type is
// undefined behaviour in C++, so the bytes are read as an unsigned integer of the same size.
template <typename E>
uint32_t enum_value(const E& field) {
  static_assert(sizeof(E) == 1 || sizeof(E) == 2 || sizeof(E) == 4);
  if constexpr (sizeof(E) == 1) {
    uint8_t v;
    std::memcpy(&v, &field, 1);
    return v;
  } else if constexpr (sizeof(E) == 2) {
    uint16_t v;
    std::memcpy(&v, &field, 2);
    return v;
  } else {
    uint32_t v;
    std::memcpy(&v, &field, 4);
    return v;
  }
}

// Copies text into a fixed char array, always terminated.
template <size_t N>
void copy_text(char (&out)[N], const char* text) {
  size_t i = 0;
  for (; text != nullptr && text[i] != '\0' && i + 1 < N; ++i) out[i] = text[i];
  out[i] = '\0';
}

// Appends text / a decimal number at *len of a fixed char array, always terminated.
template <size_t N>
void append_text(char (&out)[N], size_t* len, const char* text) {
  for (size_t i = 0; text[i] != '\0' && *len + 1 < N; ++i) out[(*len)++] = text[i];
  out[*len] = '\0';
}

template <size_t N>
void append_u32(char (&out)[N], size_t* len, uint32_t value) {
  char digits[10];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0 && *len + 1 < N) out[(*len)++] = digits[--n];
  out[*len] = '\0';
}

}  // namespace

BridgeCore::BridgeCore(Port& port, const CoreOptions& options)
    : port_(port),
      options_(options),
      ticks_(port, options.tick_high_at_start),
      edges_(port, ticks_, options.tick_hz) {}

uint64_t BridgeCore::ms_to_ticks(uint32_t ms) const { return static_cast<uint64_t>(ms) * options_.tick_hz / 1000u; }

void BridgeCore::start() {
  edges_.configure(CaptureConfig{});
  edges_.set_running(false);
  boot_tick_ = ticks_.now();
  next_heartbeat_tick_ = boot_tick_ + ms_to_ticks(options_.heartbeat_period_ms);
  hello_pending_ = true;
}

void BridgeCore::host_connected() { hello_pending_ = true; }

void BridgeCore::timer_isr() {
  // A pending flag per channel: at most one capture per input and transition in one pass; a
  // capture latched meanwhile sets its flag again and the interrupt comes back.
  RawCapture capture;
  for (int n = 0; n < 2 * kInputCount && port_.capture_read(&capture); ++n) edges_.on_capture(capture);
  if (port_.timer_overflow_pending()) ticks_.on_overflow();
}

CoreCounters BridgeCore::counters() {
  const EdgeCounters e = edges_.counters();
  return CoreCounters{e.edges_seen, e.edges_dropped, frames_rejected_, port_.uart_rx_overruns() - rx_overruns_at_reset_};
}

void BridgeCore::poll() {
  receive();
  edges_.expire_debounce();
  transmit();
}

// ---- receiving ----

void BridgeCore::receive() {
  uint8_t byte = 0;
  for (size_t n = 0; n < kMaxRxBytesPerPoll && port_.uart_read(&byte); ++n) {
    FrameResult frame;
    if (!rx_.push(byte, &frame)) continue;
    // t2: the frame is complete with its delimiter.
    handle_frame(frame, ticks_.now());
  }
}

void BridgeCore::handle_frame(const FrameResult& frame, uint64_t rx_tick) {
  if (frame.status != FrameStatus::ok) {
    ++frames_rejected_;
    queue_error(opsync_bridge_ErrorCode_ERROR_CODE_BAD_FRAME, "frame failed COBS/CRC");
    return;
  }
  Envelope request = opsync_bridge_Envelope_init_zero;
  if (!envelope_decode(frame.payload, frame.size, &request)) {
    ++frames_rejected_;
    queue_error(opsync_bridge_ErrorCode_ERROR_CODE_DECODE, "undecodable envelope");
    return;
  }
  if (!host_heard_ || rx_tick - last_rx_tick_ >= ms_to_ticks(options_.host_idle_ms)) hello_pending_ = true;
  host_heard_ = true;
  last_rx_tick_ = rx_tick;

  switch (request.which_body) {
    case opsync_bridge_Envelope_sync_request_tag:
      // A ping beyond the free slots goes unanswered; the host times it out.
      if (sync_count_ < kSyncSlots) {
        sync_[sync_count_++] =
            PendingSync{request.body.sync_request.seq, request.body.sync_request.t1_host_ns, rx_tick};
      }
      return;
    case opsync_bridge_Envelope_configure_tag:
      handle_configure(request.body.configure);
      return;
    case opsync_bridge_Envelope_start_tag:
      edges_.set_running(true);
      return;
    case opsync_bridge_Envelope_stop_tag:
      edges_.set_running(false);
      return;
    case opsync_bridge_Envelope_reset_counters_tag:
      edges_.reset_counters();
      frames_rejected_ = 0;
      rx_overruns_at_reset_ = port_.uart_rx_overruns();
      dropped_reported_ = 0;
      return;
    case opsync_bridge_Envelope_status_request_tag:
      status_pending_ = true;
      return;
    default:
      if (request.which_body == 0 && extension_ != nullptr &&
          extension_->extension_frame(frame.payload, frame.size, rx_tick)) {
        return;
      }
      queue_error(opsync_bridge_ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "not a host-to-device message");
      return;
  }
}

void BridgeCore::handle_configure(const opsync_bridge_Configure& c) {
  if ((c.inputs_enabled_mask >> kInputCount) != 0) {
    queue_error(opsync_bridge_ErrorCode_ERROR_CODE_BAD_CONFIG, "inputs_enabled_mask beyond inputs 0..3");
    return;
  }
  if (c.debounce_us > kMaxDebounceUs || c.holdoff_us > kMaxHoldoffUs) {
    queue_error(opsync_bridge_ErrorCode_ERROR_CODE_BAD_CONFIG, "debounce_us/holdoff_us above 10 s");
    return;
  }
  CaptureConfig config;
  config.inputs_enabled_mask = c.inputs_enabled_mask;
  config.debounce_us = c.debounce_us;
  config.holdoff_us = c.holdoff_us;
  for (pb_size_t i = 0; i < c.polarity_count && i < kInputCount; ++i) {
    const uint32_t p = enum_value(c.polarity[i]);
    if (p > static_cast<uint32_t>(Polarity::both)) {
      queue_error(opsync_bridge_ErrorCode_ERROR_CODE_BAD_CONFIG, "unknown polarity");
      return;
    }
    config.polarity[i] = static_cast<Polarity>(p);
  }
  edges_.configure(config);
}

void BridgeCore::queue_error(uint8_t code, const char* detail) {
  if (error_count_ < kErrorSlots) errors_[error_count_++] = PendingError{code, detail};
}

// ---- sending ----

void BridgeCore::transmit() {
  // A sync reply that waited for the UART gets a fresh t3 before its first byte leaves.
  if (tx_is_sync_ && tx_pos_ == 0 && tx_len_ != 0) load_sync_reply(tx_sync_);
  for (;;) {
    while (tx_pos_ < tx_len_) {
      if (!port_.uart_write(tx_[tx_pos_])) return;
      ++tx_pos_;
    }
    if (!next_frame()) return;
  }
}

bool BridgeCore::load_frame(const Envelope& envelope) {
  uint8_t payload[kMaxPayloadBytes];
  size_t size = 0;
  tx_pos_ = 0;
  tx_len_ = 0;
  tx_is_sync_ = false;
  if (!envelope_encode(envelope, payload, sizeof payload, &size)) return false;
  tx_len_ = frame_encode(payload, size, tx_, sizeof tx_);
  return tx_len_ != 0;
}

bool BridgeCore::load_sync_reply(const PendingSync& s) {
  Envelope e = opsync_bridge_Envelope_init_zero;
  e.which_body = opsync_bridge_Envelope_sync_reply_tag;
  e.body.sync_reply.seq = s.seq;
  e.body.sync_reply.t1_host_ns = s.t1_host_ns;
  e.body.sync_reply.t2_tick = s.t2_tick;
  e.body.sync_reply.t3_tick = ticks_.now();  // last: nothing but encoding between this and the wire
  if (!load_frame(e)) return false;
  tx_is_sync_ = true;
  tx_sync_ = s;
  return true;
}

void BridgeCore::fill_counters(opsync_bridge_Counters* out) {
  const CoreCounters c = counters();
  out->edges_seen = c.edges_seen;
  out->edges_dropped = c.edges_dropped;
  out->frames_rejected = c.frames_rejected;
  out->rx_overruns = c.rx_overruns;
}

bool BridgeCore::next_frame() {
  Envelope e = opsync_bridge_Envelope_init_zero;

  if (sync_count_ > 0) {
    const PendingSync s = sync_[0];
    for (uint8_t i = 1; i < sync_count_; ++i) sync_[i - 1] = sync_[i];
    --sync_count_;
    return load_sync_reply(s);
  }

  if (hello_pending_) {
    hello_pending_ = false;
    e.which_body = opsync_bridge_Envelope_hello_tag;
    e.body.hello.protocol_version = kProtocolVersion;
    copy_text(e.body.hello.firmware_version, options_.firmware_version);
    e.body.hello.tick_hz = options_.tick_hz;
    e.body.hello.input_count = kInputCount;
    return load_frame(e);
  }

  if (status_pending_) {
    status_pending_ = false;
    const CaptureConfig& c = edges_.config();
    e.which_body = opsync_bridge_Envelope_status_tag;
    opsync_bridge_Status& s = e.body.status;
    s.running = edges_.running();
    s.has_config = true;
    s.config.inputs_enabled_mask = c.inputs_enabled_mask;
    s.config.polarity_count = kInputCount;
    for (uint8_t i = 0; i < kInputCount; ++i) s.config.polarity[i] = static_cast<opsync_bridge_Polarity>(c.polarity[i]);
    s.config.debounce_us = c.debounce_us;
    s.config.holdoff_us = c.holdoff_us;
    s.has_counters = true;
    fill_counters(&s.counters);
    s.tick = ticks_.now();
    return load_frame(e);
  }

  if (error_count_ > 0) {
    const PendingError err = errors_[0];
    for (uint8_t i = 1; i < error_count_; ++i) errors_[i - 1] = errors_[i];
    --error_count_;
    e.which_body = opsync_bridge_Envelope_error_tag;
    e.body.error.code = static_cast<opsync_bridge_ErrorCode>(err.code);
    copy_text(e.body.error.detail, err.detail);
    return load_frame(e);
  }

  const uint32_t dropped = edges_.counters().edges_dropped;
  if (dropped != dropped_reported_) {
    // One error per batch of drops; the count is in the heartbeat counters as well.
    e.which_body = opsync_bridge_Envelope_error_tag;
    e.body.error.code = opsync_bridge_ErrorCode_ERROR_CODE_RING_OVERFLOW;
    size_t len = 0;
    append_u32(e.body.error.detail, &len, dropped - dropped_reported_);
    append_text(e.body.error.detail, &len, " edges dropped: edge ring full");
    dropped_reported_ = dropped;
    return load_frame(e);
  }

  const uint64_t now_tick = ticks_.now();
  if (now_tick >= next_heartbeat_tick_) {
    // Keep the 1 s grid unless we fell a whole period behind.
    next_heartbeat_tick_ += ms_to_ticks(options_.heartbeat_period_ms);
    if (next_heartbeat_tick_ <= now_tick) next_heartbeat_tick_ = now_tick + ms_to_ticks(options_.heartbeat_period_ms);
    e.which_body = opsync_bridge_Envelope_heartbeat_tag;
    e.body.heartbeat.tick = now_tick;
    e.body.heartbeat.has_counters = true;
    fill_counters(&e.body.heartbeat.counters);
    const uint64_t up_tick = now_tick - boot_tick_;
    // In two steps: up_tick * 1000 would overflow after 3.5 years at 168 MHz.
    e.body.heartbeat.uptime_ms = up_tick / options_.tick_hz * 1000u + up_tick % options_.tick_hz * 1000u / options_.tick_hz;
    return load_frame(e);
  }

  EdgeRecord edge;
  if (edges_.pop(&edge)) {
    e.which_body = opsync_bridge_Envelope_edge_tag;
    e.body.edge.seq = edge.seq;
    e.body.edge.input = edge.input;
    e.body.edge.edge = static_cast<opsync_bridge_EdgeKind>(edge.kind);
    e.body.edge.tick = edge.tick;
    return load_frame(e);
  }
  return false;
}

}  // namespace opsync::fw
