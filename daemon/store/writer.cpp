// Writer thread: drains the pending queues into one transaction per batch.
#include "store/writer.h"

#include <algorithm>
#include <fmt/format.h>

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
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StoreWriter::run_command(std::function<void(Inserter&)> fn) {
  auto cmd = std::make_shared<Command>();
  cmd->fn = std::move(fn);
  auto done = cmd->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_samples_.empty() && pending_items_.empty()) first_pending_at_ = std::chrono::steady_clock::now();
    pending_items_.emplace_back(std::move(cmd));
    urgent_ = true;
  }
  cv_.notify_one();
  done.get();
}

SessionId StoreWriter::open_session(const Session& s) {
  SessionId id = 0;
  run_command([&](Inserter& ins) { id = ins.open_session(s); });
  return id;
}

void StoreWriter::end_session(SessionId id, int64_t ended_ns) {
  run_command([&](Inserter& ins) { ins.end_session(id, ended_ns); });
}

SourceId StoreWriter::add_source(const Source& s) {
  SourceId id = 0;
  run_command([&](Inserter& ins) { id = ins.add_source(s); });
  return id;
}

ChannelId StoreWriter::add_channel(const Channel& c) {
  ChannelId id = 0;
  run_command([&](Inserter& ins) { id = ins.add_channel(c); });
  return id;
}

SourceId StoreWriter::open_source(const Source& s) {
  SourceId id = 0;
  run_command([&](Inserter& ins) { id = ins.open_source(s); });
  return id;
}

ChannelId StoreWriter::open_channel(const Channel& c) {
  ChannelId id = 0;
  run_command([&](Inserter& ins) { id = ins.open_channel(c); });
  return id;
}

void StoreWriter::flush() { run_command({}); }

void StoreWriter::add_clock_model(SourceId source, const ClockModel& m) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_samples_.empty() && pending_items_.empty()) first_pending_at_ = std::chrono::steady_clock::now();
    pending_items_.emplace_back(ClockItem{source, m});
  }
  records_pushed_.fetch_add(1, std::memory_order_relaxed);
  cv_.notify_one();
}

void StoreWriter::push(const Sample& s) { push(std::span<const Sample>(&s, 1)); }

void StoreWriter::push(std::span<const Sample> samples) {
  if (samples.empty()) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const bool was_empty = pending_samples_.empty() && pending_items_.empty();
    if (was_empty) first_pending_at_ = std::chrono::steady_clock::now();
    const size_t before = pending_samples_.size();
    pending_samples_.insert(pending_samples_.end(), samples.begin(), samples.end());
    // Wake the thread only when it has something new to decide: a deadline or a full batch.
    wake = was_empty || (before < options_.batch_max_samples && pending_samples_.size() >= options_.batch_max_samples);
  }
  samples_pushed_.fetch_add(samples.size(), std::memory_order_relaxed);
  records_pushed_.fetch_add(samples.size(), std::memory_order_relaxed);
  if (wake) cv_.notify_one();
}

// Returns whether the writer thread must be woken: only when the batch was empty, i.e. this
// record starts the age deadline (the thread then waits for that deadline or a full batch, which
// more records do not change). Waking it for every record costs the producer a futex call and
// a context switch each time, between a driver's stamp and its write or read.
template <class T>
static bool push_item(std::mutex& mu, std::vector<Sample>& samples, std::vector<T>& items,
                      std::chrono::steady_clock::time_point& first, auto&& item) {
  std::lock_guard<std::mutex> lock(mu);
  const bool was_empty = samples.empty() && items.empty();
  if (was_empty) first = std::chrono::steady_clock::now();
  items.emplace_back(std::forward<decltype(item)>(item));
  return was_empty;
}

void StoreWriter::push(Event e) {
  const bool wake = push_item(mu_, pending_samples_, pending_items_, first_pending_at_, std::move(e));
  records_pushed_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
}

void StoreWriter::push(Scan s) {
  const bool wake = push_item(mu_, pending_samples_, pending_items_, first_pending_at_, std::move(s));
  records_pushed_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
}

void StoreWriter::push(Capture c) {
  const bool wake = push_item(mu_, pending_samples_, pending_items_, first_pending_at_, std::move(c));
  records_pushed_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
}

WriterStats StoreWriter::stats() const {
  WriterStats s;
  s.samples_pushed = samples_pushed_.load();
  s.samples_committed = samples_committed_.load();
  s.records_committed = records_committed_.load();
  s.batches = batches_.load();
  s.failed_commits = failed_commits_.load();
  s.backlog = records_pushed_.load() - s.records_committed;
  std::lock_guard<std::mutex> lock(mu_);
  s.last_error = last_error_;
  return s;
}

void StoreWriter::thread_main() {
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
    return;
  }
  started_.set_value();

  // At shutdown a failing commit (disk full) is retried this often before giving up loudly.
  static constexpr int kFinalTries = 20;
  int final_tries = 0;
  std::vector<Sample> samples;
  std::vector<Item> items;
  auto backoff = std::chrono::milliseconds(10);
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] {
        return stop_ || urgent_ || pending_samples_.size() >= options_.batch_max_samples ||
               ((!pending_samples_.empty() || !pending_items_.empty()) &&
                std::chrono::steady_clock::now() - first_pending_at_ >= options_.batch_max_age);
      };
      while (!ready()) {
        if (pending_samples_.empty() && pending_items_.empty()) {
          cv_.wait(lock);
        } else {
          cv_.wait_until(lock, first_pending_at_ + options_.batch_max_age);
        }
      }
      stopping = stop_;
      samples.swap(pending_samples_);
      items.swap(pending_items_);
      urgent_ = false;
    }
    if (!samples.empty() || !items.empty()) {
      if (!commit_batch(samples, items)) {
        requeue(samples, items);
        if (stopping && ++final_tries > kFinalTries) {
          std::lock_guard<std::mutex> lock(mu_);
          fmt::print(stderr, "opsync store: {} records could not be written to {} at shutdown: {}\n",
                     pending_samples_.size() + pending_items_.size(), path_, last_error_);
          break;
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
        continue;
      }
      backoff = std::chrono::milliseconds(10);
      samples.clear();
      items.clear();
    }
    if (stopping) {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_samples_.empty() && pending_items_.empty()) break;
    }
  }
  inserter_.reset();
  db_.reset();
}

// Puts a batch that failed to commit back in front of whatever arrived meanwhile.
void StoreWriter::requeue(std::vector<Sample>& samples, std::vector<Item>& items) {
  std::lock_guard<std::mutex> lock(mu_);
  samples.insert(samples.end(), pending_samples_.begin(), pending_samples_.end());
  pending_samples_.swap(samples);
  items.insert(items.end(), std::make_move_iterator(pending_items_.begin()),
               std::make_move_iterator(pending_items_.end()));
  pending_items_.swap(items);
  samples.clear();
  items.clear();
  urgent_ = true;
}

// One transaction for the whole drained batch. A metadata command that fails (e.g. a duplicate
// source name) is rolled back to its savepoint and its caller gets the error; the rest commits.
// Returns false when the transaction itself could not be committed (nothing of it is in the file).
bool StoreWriter::commit_batch(std::vector<Sample>& samples, std::vector<Item>& items) {
  std::vector<std::pair<std::shared_ptr<Command>, std::exception_ptr>> finished;
  uint64_t n_records = samples.size();
  try {
    Transaction tx(*db_);
    inserter_->add_samples(samples);
    for (const Item& item : items) {
      std::visit(Overloaded{
                     [&](const Event& e) { inserter_->add_event(e); ++n_records; },
                     [&](const Scan& s) { inserter_->add_scan(s); ++n_records; },
                     [&](const Capture& c) { inserter_->add_capture(c); ++n_records; },
                     [&](const ClockItem& c) { inserter_->add_clock_model(c.source, c.model); ++n_records; },
                     [&](const std::shared_ptr<Command>& cmd) {
                       std::exception_ptr error;
                       if (cmd->fn) {
                         db_->exec("SAVEPOINT command");
                         try {
                           cmd->fn(*inserter_);
                         } catch (const StoreError& e) {
                           if (e.is_busy()) throw;  // transient: retry the whole batch
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
