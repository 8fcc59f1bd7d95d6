// Writer thread: drains the pending queues in batches, one transaction each, and rides out a
// failed commit (a locked file, a full disk) by retrying with backoff, without losing a record.
#include "store/writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "store/inserter.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace opsync::store {
namespace {
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

using Clock = std::chrono::steady_clock;

constexpr auto kMinBackoff = std::chrono::milliseconds(10);
constexpr auto kMaxBackoff = std::chrono::milliseconds(1000);
// While closing, retries come at least this often, so that the timeout is spent retrying.
constexpr auto kMaxCloseBackoff = std::chrono::milliseconds(100);
constexpr auto kDefaultCloseTimeout = std::chrono::milliseconds(10000);
// Events, scans, captures and clock models per transaction (captures are the many).
constexpr size_t kMaxItemsPerBatch = 65536;
}  // namespace

StoreWriter::StoreWriter(const std::string& path, WriterOptions options)
    : path_(path), options_(std::move(options)) {
  if (options_.batch_max_samples == 0) options_.batch_max_samples = 1;
  auto started = started_.get_future();
  thread_ = std::thread([this] { thread_main(); });
  try {
    started.get();  // rethrows an open/migrate failure here, in the caller's thread
  } catch (...) {
    thread_.join();
    throw;
  }
}

StoreWriter::~StoreWriter() {
  bool closed_before = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_before = stop_;
  }
  const CloseReport r = close(kDefaultCloseTimeout);
  // An explicit close() reports to its caller; here nobody else would say it.
  if (!closed_before && r.records_unwritten > 0) {
    fmt::print(stderr, "opsync store: {} records could not be written to {}: {}\n", r.records_unwritten, path_,
               r.last_error);
  }
}

CloseReport StoreWriter::close(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_) {
      stop_ = true;
      stop_deadline_ = std::chrono::steady_clock::now() + timeout;
    }
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return close_report_;
}

void StoreWriter::run_command(std::function<void(Inserter&)> fn) {
  auto cmd = std::make_shared<Command>();
  cmd->fn = std::move(fn);
  auto done = cmd->done.get_future();
  queue_command(std::move(cmd));
  done.get();
}

void StoreWriter::queue_command(std::shared_ptr<Command> cmd) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      cmd->done.set_exception(std::make_exception_ptr(StoreError(fmt::format("{}: the store writer is closed", path_))));
      return;
    }
    if (pending_samples_.empty() && pending_items_.empty()) first_pending_at_ = std::chrono::steady_clock::now();
    pending_items_.emplace_back(std::move(cmd));
    urgent_ = true;
  }
  cv_.notify_one();
}

records::SessionId StoreWriter::open_session(const records::Session& s) {
  records::SessionId id = 0;
  run_command([&](Inserter& ins) { id = ins.open_session(s); });
  return id;
}

void StoreWriter::end_session(records::SessionId id, int64_t ended_ns) {
  run_command([&](Inserter& ins) { ins.end_session(id, ended_ns); });
}

void StoreWriter::queue_end_session(records::SessionId id, int64_t ended_ns) {
  auto cmd = std::make_shared<Command>();
  cmd->fn = [id, ended_ns](Inserter& ins) { ins.end_session(id, ended_ns); };
  queue_command(std::move(cmd));
}

records::SourceId StoreWriter::add_source(const records::Source& s) {
  records::SourceId id = 0;
  run_command([&](Inserter& ins) { id = ins.add_source(s); });
  return id;
}

records::ChannelId StoreWriter::add_channel(const records::Channel& c) {
  records::ChannelId id = 0;
  run_command([&](Inserter& ins) { id = ins.add_channel(c); });
  return id;
}

records::SourceId StoreWriter::open_source(const records::Source& s) {
  records::SourceId id = 0;
  run_command([&](Inserter& ins) { id = ins.open_source(s); });
  return id;
}

records::ChannelId StoreWriter::open_channel(const records::Channel& c) {
  records::ChannelId id = 0;
  run_command([&](Inserter& ins) { id = ins.open_channel(c); });
  return id;
}

void StoreWriter::flush() { run_command({}); }

void StoreWriter::add_clock_model(records::SourceId source, const records::ClockModel& m) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;  // nothing is there to write it
    if (pending_samples_.empty() && pending_items_.empty()) first_pending_at_ = std::chrono::steady_clock::now();
    pending_items_.emplace_back(ClockItem{source, m});
    records_pushed_.fetch_add(1, std::memory_order_relaxed);
  }
  cv_.notify_one();
}

void StoreWriter::push(const records::Sample& s) { push(std::span<const records::Sample>(&s, 1)); }

void StoreWriter::push(std::span<const records::Sample> samples) {
  if (samples.empty()) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    const bool was_empty = pending_samples_.empty() && pending_items_.empty();
    if (was_empty) first_pending_at_ = std::chrono::steady_clock::now();
    const size_t before = pending_samples_.size();
    pending_samples_.insert(pending_samples_.end(), samples.begin(), samples.end());
    // Wake the thread only when it has something new to decide: a deadline or a full batch.
    wake = was_empty || (before < options_.batch_max_samples && pending_samples_.size() >= options_.batch_max_samples);
    samples_pushed_.fetch_add(samples.size(), std::memory_order_relaxed);
    records_pushed_.fetch_add(samples.size(), std::memory_order_relaxed);
  }
  if (wake) cv_.notify_one();
}

// Returns whether the writer thread must be woken: only when the batch was empty, i.e. this
// record starts the age deadline (the thread then waits for that deadline or a full batch, which
// more records do not change). Waking it for every record costs the producer a futex call and
// a context switch each time, between a driver's stamp and its write or read.
template <class T>
bool StoreWriter::push_item(T&& item) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return false;  // nothing is there to write it
  const bool was_empty = pending_samples_.empty() && pending_items_.empty();
  if (was_empty) first_pending_at_ = std::chrono::steady_clock::now();
  pending_items_.emplace_back(std::forward<T>(item));
  records_pushed_.fetch_add(1, std::memory_order_relaxed);
  return was_empty;
}

void StoreWriter::push(records::Event e) {
  if (push_item(std::move(e))) cv_.notify_one();
}

void StoreWriter::push(records::Scan s) {
  if (push_item(std::move(s))) cv_.notify_one();
}

void StoreWriter::push(records::Capture c) {
  if (push_item(std::move(c))) cv_.notify_one();
}

WriterStats StoreWriter::stats() const {
  WriterStats s;
  std::lock_guard<std::mutex> lock(mu_);
  s.samples_pushed = samples_pushed_.load();
  s.samples_committed = samples_committed_.load();
  s.records_committed = records_committed_.load();
  s.batches = batches_.load();
  s.failed_commits = failed_commits_.load();
  s.records_unwritten = records_unwritten_.load();
  s.backlog = records_pushed_.load() - s.records_committed - s.records_unwritten;
  s.disk_full = disk_full_.load();
  s.disk_full_commits = disk_full_commits_.load();
  s.reserve_held = reserve_held_.load();
  s.last_error = last_error_;
  return s;
}

// The writer thread's own state, kept from one round of its loop to the next (what were
// thread_main's locals). Only the writer thread touches it.
struct StoreWriter::ThreadState {
  // In flight: taken from the queue, not yet committed; [*_done, size) is what is left.
  std::vector<records::Sample> samples;
  std::vector<Item> items;
  size_t samples_done = 0, items_done = 0;
  std::chrono::milliseconds backoff = kMinBackoff;
  // (std::optional here makes GCC 12 warn of maybe-uninitialized reads.)
  bool backing_off = false, full = false, draining = false;
  size_t scale = 1;  // batch size, in batch_max_samples, while draining a backlog
  Clock::time_point retry_at{}, full_since{};
  uint64_t full_failures = 0;
  bool stop_seen = false;
  bool essentials_tried = false;
  Clock::time_point deadline{};  // close()'s deadline, as of the last take_pending()

  bool in_flight_empty() const { return samples_done == samples.size() && items_done == items.size(); }
};

void StoreWriter::thread_main() {
  if (!open_connection()) return;
  create_reserve();
  started_.set_value();

  ThreadState st;
  for (;;) {
    take_pending(st);
    if (st.in_flight_empty()) {
      if (st.stop_seen) break;
      continue;
    }
    if (commit_in_flight(st)) continue;
    if (!handle_failed_commit(st)) break;
  }

  give_up_unwritten(st);
  inserter_.reset();
  db_.reset();
  release_reserve();
}

// Opens the file and migrates its schema on the writer thread, which owns the connection.
// False (the error is handed to the constructor through started_) when that failed.
bool StoreWriter::open_connection() {
  try {
    db_ = std::make_unique<Db>(path_, Db::Mode::ReadWrite);
    configure_connection(*db_, /*writer=*/true);
    migrate(*db_);
    db_->set_busy_timeout(static_cast<int>(options_.busy_timeout.count()));
    inserter_ = std::make_unique<Inserter>(*db_);
  } catch (...) {
    inserter_.reset();
    db_.reset();
    started_.set_exception(std::current_exception());
    return false;
  }
  return true;
}

// Waits, under mu_, until there is something to do (nothing in flight: a full batch, a batch's
// age, a command or a stop; backing off: the retry time or a stop request), then moves what was
// pushed into the in-flight vectors, behind what is already there. One lock for the wait and
// the move, so nothing pushed in between is missed.
void StoreWriter::take_pending(ThreadState& st) {
  std::unique_lock<std::mutex> lock(mu_);
  if (st.in_flight_empty()) {
    auto ready = [&] {
      return stop_ || urgent_ || pending_samples_.size() >= options_.batch_max_samples ||
             ((!pending_samples_.empty() || !pending_items_.empty()) &&
              Clock::now() - first_pending_at_ >= options_.batch_max_age);
    };
    while (!ready()) {
      if (pending_samples_.empty() && pending_items_.empty()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, first_pending_at_ + options_.batch_max_age);
      }
    }
  } else if (st.backing_off) {
    // Backing off after a failed commit; a stop request starts the closing retries at once.
    cv_.wait_until(lock, st.retry_at, [&] { return stop_ != st.stop_seen; });
  }
  st.stop_seen = stop_;
  st.deadline = stop_deadline_;
  // What was pushed meanwhile goes behind what is in flight.
  if (st.samples_done == st.samples.size()) {
    st.samples.clear();
    st.samples_done = 0;
    st.samples.swap(pending_samples_);
  } else {
    st.samples.insert(st.samples.end(), pending_samples_.begin(), pending_samples_.end());
    pending_samples_.clear();
  }
  if (st.items_done == st.items.size()) {
    st.items.clear();
    st.items_done = 0;
    st.items.swap(pending_items_);
  } else {
    st.items.insert(st.items.end(), std::make_move_iterator(pending_items_.begin()),
                    std::make_move_iterator(pending_items_.end()));
    pending_items_.clear();
  }
  urgent_ = false;
}

// Commits the next batch of what is in flight (not under mu_). False when the commit failed:
// nothing of it is in the file and it stays in flight for a retry.
bool StoreWriter::commit_in_flight(ThreadState& st) {
  // Normally everything that is pending goes in one transaction, so a writer that fell behind
  // (a slow fsync) catches up with fewer, larger commits. After a failure, a batch of the usual
  // size, doubling with each success until the backlog is gone: a backlog left by a full disk
  // goes out in pieces that fit, and a failing retry costs one batch, not the whole backlog.
  const size_t samples_left = st.samples.size() - st.samples_done;
  const size_t n_samples =
      st.draining ? std::min(samples_left, options_.batch_max_samples * st.scale) : samples_left;
  size_t n_items = st.draining ? std::min(st.items.size() - st.items_done, kMaxItemsPerBatch * st.scale)
                               : st.items.size() - st.items_done;
  if (st.samples_done + n_samples < st.samples.size()) {
    // A command (flush, end of session) waits for the samples pushed before it: it goes in
    // the batch that takes the last of them.
    for (size_t k = 0; k < n_items; ++k) {
      if (std::holds_alternative<std::shared_ptr<Command>>(st.items[st.items_done + k])) {
        n_items = k;
        break;
      }
    }
  }
  if (!commit_batch(std::span<const records::Sample>(st.samples).subspan(st.samples_done, n_samples),
                    std::span<Item>(st.items).subspan(st.items_done, n_items))) {
    return false;
  }
  st.samples_done += n_samples;
  st.items_done += n_items;
  if (st.in_flight_empty()) st.draining = false;
  st.scale = st.draining ? std::min<size_t>(st.scale * 2, 1024) : 1;
  // Keep the in-flight vectors from growing while a long backlog drains.
  if (st.samples_done > options_.batch_max_samples * 16 && st.samples_done * 2 > st.samples.size()) {
    st.samples.erase(st.samples.begin(), st.samples.begin() + static_cast<std::ptrdiff_t>(st.samples_done));
    st.samples_done = 0;
  }
  if (st.items_done > kMaxItemsPerBatch * 16 && st.items_done * 2 > st.items.size()) {
    st.items.erase(st.items.begin(), st.items.begin() + static_cast<std::ptrdiff_t>(st.items_done));
    st.items_done = 0;
  }
  st.backoff = kMinBackoff;
  st.backing_off = false;
  // The episode ends when its backlog is written, not at the first small batch that fits.
  if (st.full && !st.draining) end_disk_full_episode(st);
  return true;
}

// After the commit that wrote the last of a full disk's backlog: reports the episode's end.
void StoreWriter::end_disk_full_episode(ThreadState& st) {
  disk_full_ = false;
  if (options_.on_disk_full) {
    DiskFullReport r;
    r.full = false;
    r.backlog = stats().backlog;
    r.failed_commits = st.full_failures;
    r.lasted = Clock::now() - st.full_since;
    options_.on_disk_full(r);
  }
  st.full = false;
  st.full_failures = 0;
}

// After a failed commit: from now on batches of the usual size, a full disk counted (and
// reported when it starts), and the retry scheduled with backoff. While closing, a full disk
// first releases the reserve, then tries the session's own records alone, and the deadline
// ends the retries. False when the deadline has passed: the thread gives up what is left.
bool StoreWriter::handle_failed_commit(ThreadState& st) {
  st.draining = true;
  st.scale = 1;
  const auto now = Clock::now();
  if (last_failure_full_) note_disk_full(st, now);
  if (st.stop_seen) {
    if (last_failure_full_ && reserve_held_) {
      release_reserve();  // space for the close; retry at once
      st.backing_off = false;
      return true;
    }
    if (last_failure_full_ && !st.essentials_tried) {
      st.essentials_tried = true;
      if (commit_essentials(st)) {
        st.backing_off = false;
        return true;
      }
    }
    if (now >= st.deadline) return false;
  }
  st.backing_off = true;
  st.retry_at = now + st.backoff;
  st.backoff = std::min(st.backoff * 2, st.stop_seen ? kMaxCloseBackoff : kMaxBackoff);
  return true;
}

// A commit failed for lack of space: counted, and the episode's start reported once.
void StoreWriter::note_disk_full(ThreadState& st, Clock::time_point now) {
  ++st.full_failures;
  disk_full_commits_.fetch_add(1, std::memory_order_relaxed);
  if (st.full) return;
  st.full = true;
  st.full_since = now;
  disk_full_ = true;
  if (options_.on_disk_full) {
    DiskFullReport r;
    r.full = true;
    const WriterStats stats_now = stats();
    r.backlog = stats_now.backlog;
    r.error = stats_now.last_error;
    options_.on_disk_full(r);
  }
}

// Closing on a full disk: the session's own records first, in one batch of their own: small,
// and they say what happened (events, clock models, scans, the session's end). Samples and
// captures follow if space allows. True when they were committed.
bool StoreWriter::commit_essentials(ThreadState& st) {
  auto first = st.items.begin() + static_cast<std::ptrdiff_t>(st.items_done);
  auto rest = std::stable_partition(first, st.items.end(), [](const Item& item) {
    if (std::holds_alternative<records::Capture>(item)) return false;
    if (const auto* cmd = std::get_if<std::shared_ptr<Command>>(&item)) return static_cast<bool>((*cmd)->fn);
    return true;
  });
  const auto n_essential = static_cast<size_t>(rest - first);
  if (n_essential > 0 && commit_batch({}, std::span<Item>(st.items).subspan(st.items_done, n_essential))) {
    st.items_done += n_essential;
    return true;
  }
  return false;
}

// The thread stops: whatever is left could not be written before the deadline. Counts it, and
// fails the calls that wait for it rather than leave them waiting.
void StoreWriter::give_up_unwritten(ThreadState& st) {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  st.samples.insert(st.samples.end(), pending_samples_.begin(), pending_samples_.end());
  st.items.insert(st.items.end(), std::make_move_iterator(pending_items_.begin()),
                  std::make_move_iterator(pending_items_.end()));
  pending_samples_.clear();
  pending_items_.clear();
  uint64_t unwritten = st.samples.size() - st.samples_done;
  const auto error = std::make_exception_ptr(
      StoreError(fmt::format("{}: not written before the writer closed: {}", path_, last_error_)));
  for (size_t k = st.items_done; k < st.items.size(); ++k) {
    if (auto* cmd = std::get_if<std::shared_ptr<Command>>(&st.items[k])) {
      (*cmd)->done.set_exception(error);
    } else {
      ++unwritten;
    }
  }
  records_unwritten_ = unwritten;
  close_report_ = CloseReport{unwritten, unwritten > 0 ? last_error_ : std::string()};
}

bool StoreWriter::is_disk_full_error(const StoreError& e) const {
  const int primary = e.sqlite_code() & 0xff;
  if (primary == SQLITE_FULL) return true;
  // Some write paths report ENOSPC as an I/O error.
  return primary == SQLITE_IOERR && db_ && sqlite3_system_errno(db_->handle()) == ENOSPC;
}

void StoreWriter::create_reserve() {
  if (options_.reserve_bytes == 0 || path_.empty() || path_ == ":memory:") return;
  const int fd = ::open(reserve_path().c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  // Allocated blocks, not a sparse file: the space must really be taken from the disk.
  const int rc = posix_fallocate(fd, 0, static_cast<off_t>(options_.reserve_bytes));
  ::close(fd);
  if (rc == 0) {
    reserve_held_ = true;
    return;
  }
  ::unlink(reserve_path().c_str());
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = fmt::format("{}: no reserve of {} bytes: {}", reserve_path(), options_.reserve_bytes, std::strerror(rc));
}

void StoreWriter::release_reserve() {
  if (!reserve_held_) return;
  ::unlink(reserve_path().c_str());
  reserve_held_ = false;
}

// One transaction for one batch. A metadata command that fails (e.g. a duplicate source name)
// is rolled back to its savepoint and its caller gets the error; the rest commits. Returns false
// when the transaction itself could not be committed (nothing of it is in the file).
bool StoreWriter::commit_batch(std::span<const records::Sample> samples, std::span<Item> items) {
  std::vector<std::pair<std::shared_ptr<Command>, std::exception_ptr>> finished;
  uint64_t n_records = samples.size();
  last_failure_full_ = false;
  try {
    if (options_.before_commit) options_.before_commit(*db_);
    Transaction tx(*db_);
    inserter_->add_samples(samples);
    for (const Item& item : items) {
      std::visit(Overloaded{
                     [&](const records::Event& e) { inserter_->add_event(e); ++n_records; },
                     [&](const records::Scan& s) { inserter_->add_scan(s); ++n_records; },
                     [&](const records::Capture& c) { inserter_->add_capture(c); ++n_records; },
                     [&](const ClockItem& c) { inserter_->add_clock_model(c.source, c.model); ++n_records; },
                     [&](const std::shared_ptr<Command>& cmd) {
                       std::exception_ptr error;
                       if (cmd->fn) {
                         db_->exec("SAVEPOINT command");
                         try {
                           cmd->fn(*inserter_);
                         } catch (const StoreError& e) {
                           // transient, or no space: retry the whole batch
                           if (e.is_busy() || is_disk_full_error(e)) throw;
                           error = std::current_exception();
                           db_->exec("ROLLBACK TO command");
                         }
                         db_->exec("RELEASE command");
                       }
                       finished.emplace_back(cmd, error);
                     }},
                 item);
    }
    tx.commit();
  } catch (const std::exception& e) {
    if (const auto* se = dynamic_cast<const StoreError*>(&e)) last_failure_full_ = is_disk_full_error(*se);
    // Sequence numbers handed out in the rolled-back transaction are free again.
    inserter_->forget_sequence_numbers();
    failed_commits_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = e.what();
    return false;
  }
  CommitInfo info;
  info.batch = batches_.fetch_add(1, std::memory_order_relaxed) + 1;
  info.samples_committed = samples_committed_.fetch_add(samples.size(), std::memory_order_relaxed) + samples.size();
  info.records_committed = records_committed_.fetch_add(n_records, std::memory_order_relaxed) + n_records;
  if (options_.on_commit) options_.on_commit(info);
  for (auto& [cmd, error] : finished) {
    if (error) {
      cmd->done.set_exception(error);
    } else {
      cmd->done.set_value();
    }
  }
  return true;
}

}  // namespace opsync::store
