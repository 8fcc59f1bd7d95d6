// The store's writer: one thread owns the SQLite connection; producers (drivers, the daemon,
// tests) push records from any thread without waiting for the disk. Records are committed in
// batches, by count (batch_max_samples) or by age (batch_max_age), whichever comes first, so a
// crash loses at most one batch window. Nothing pushed is ever dropped: on a failed commit
// (disk full, lock held too long) the batch stays queued and is retried with backoff.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "store/records.h"

namespace opsync::store {

class Db;
class Inserter;

struct CommitInfo {
  uint64_t batch = 0;              // 1-based number of this commit
  uint64_t samples_committed = 0;  // totals since the writer started
  uint64_t records_committed = 0;  // samples + events + scans + captures
};

struct WriterOptions {
  size_t batch_max_samples = 65536;
  std::chrono::milliseconds batch_max_age{100};
  // How long one commit waits for a lock held by another connection (an importer) before the
  // batch is put back and retried later.
  std::chrono::milliseconds busy_timeout{10000};
  // Called on the writer thread after every commit, once the data is durable in the file.
  std::function<void(const CommitInfo&)> on_commit;
};

struct WriterStats {
  uint64_t samples_pushed = 0;
  uint64_t samples_committed = 0;
  uint64_t records_committed = 0;
  uint64_t batches = 0;
  uint64_t failed_commits = 0;  // retried later; nothing dropped
  uint64_t backlog = 0;         // records pushed but not yet committed
  std::string last_error;
};

class StoreWriter {
 public:
  // Opens or creates the file, migrates its schema, starts the writer thread. Throws StoreError.
  explicit StoreWriter(const std::string& path, WriterOptions options = {});
  // Commits everything pushed so far, then stops the thread.
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Metadata: rare, synchronous (waits for the commit), rethrows a StoreError from the thread.
  SessionId open_session(const Session& s);
  void end_session(SessionId id, int64_t ended_ns);
  SourceId add_source(const Source& s);
  ChannelId add_channel(const Channel& c);
  SourceId open_source(const Source& s);    // find or create (resuming a session)
  ChannelId open_channel(const Channel& c);
  void add_clock_model(SourceId source, const ClockModel& m);

  // Data: asynchronous, never waits for the disk.
  void push(const Sample& s);
  void push(std::span<const Sample> samples);
  void push(Event e);
  void push(Scan s);
  void push(Capture c);

  // Returns when everything pushed before the call is committed.
  void flush();
  WriterStats stats() const;

 private:
  struct Command {
    std::function<void(Inserter&)> fn;  // empty: a flush barrier
    std::promise<void> done;
  };
  struct ClockItem {
    SourceId source;
    ClockModel model;
  };
  using Item = std::variant<Event, Scan, Capture, ClockItem, std::shared_ptr<Command>>;

  void run_command(std::function<void(Inserter&)> fn);
  void thread_main();
  bool commit_batch(std::vector<Sample>& samples, std::vector<Item>& items);
  void requeue(std::vector<Sample>& samples, std::vector<Item>& items);

  std::string path_;
  WriterOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Sample> pending_samples_;
  std::vector<Item> pending_items_;
  std::chrono::steady_clock::time_point first_pending_at_{};
  bool urgent_ = false;
  bool stop_ = false;

  std::atomic<uint64_t> samples_pushed_{0};
  std::atomic<uint64_t> samples_committed_{0};
  std::atomic<uint64_t> records_pushed_{0};
  std::atomic<uint64_t> records_committed_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> failed_commits_{0};
  std::string last_error_;  // guarded by mu_

  // Owned and used by the writer thread only.
  std::unique_ptr<Db> db_;
  std::unique_ptr<Inserter> inserter_;

  std::promise<void> started_;
  std::thread thread_;
};

}  // namespace opsync::store
