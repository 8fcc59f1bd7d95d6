// The store's writer: one thread owns the SQLite connection; producers (drivers, the daemon,
// tests) push records from any thread without waiting for the disk. Records are committed in
// batches, by count (batch_max_samples) or by age (batch_max_age), whichever comes first, so a
// crash loses at most one batch window. Nothing pushed is dropped while the writer runs: on a
// failed commit (disk full, lock held too long) the batch stays queued in memory and is retried
// with backoff, one batch at a time, so that when space returns the backlog goes out in batches
// of the usual size. Only close() gives up, after its timeout, and says how many records that
// cost. A reserve file kept beside the database from the start is released when the disk is full
// at close, so that the session's end can still be written.
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

#include "records/records.h"

namespace opsync::store {

class Db;
class Inserter;
class StoreError;

struct CommitInfo {
  uint64_t batch = 0;              // 1-based number of this commit
  uint64_t samples_committed = 0;  // totals since the writer started
  uint64_t records_committed = 0;  // samples + events + scans + captures
};

struct DiskFullReport {
  bool full = false;            // true: commits fail for lack of space; false: one succeeded again
  std::string error;            // SQLite's message for the first failure
  uint64_t backlog = 0;         // records held in memory, not yet in the file
  uint64_t failed_commits = 0;  // in this episode, when full == false
  std::chrono::steady_clock::duration lasted{};  // from the first failure, when full == false
};

struct WriterOptions {
  size_t batch_max_samples = 65536;
  std::chrono::milliseconds batch_max_age{100};
  // How long one commit waits for a lock held by another connection (an importer) before the
  // batch is put back and retried later.
  std::chrono::milliseconds busy_timeout{10000};
  // Called on the writer thread after every commit, once the data is durable in the file.
  std::function<void(const CommitInfo&)> on_commit;
  // Called on the writer thread when commits start failing for lack of space and when one
  // succeeds again (not for each retry in between).
  std::function<void(const DiskFullReport&)> on_disk_full;
  // Bytes held in "<db>.reserve" from the start (0: none), released when the disk is full at
  // close: enough for the session's last events and its end, and some of the backlog.
  uint64_t reserve_bytes = 1 << 20;
  // Tests: runs on the writer thread before each transaction (e.g. PRAGMA max_page_count, which
  // makes SQLite report a full disk without one).
  std::function<void(Db&)> before_commit;
};

// What close() could not write (nothing when the disk and the lock allowed everything).
struct CloseReport {
  uint64_t records_unwritten = 0;
  std::string last_error;
};

struct WriterStats {
  uint64_t samples_pushed = 0;
  uint64_t samples_committed = 0;
  uint64_t records_committed = 0;
  uint64_t batches = 0;
  uint64_t failed_commits = 0;  // retried later; nothing dropped
  uint64_t backlog = 0;         // records pushed but not yet committed
  bool disk_full = false;       // the last commit failed for lack of space
  uint64_t disk_full_commits = 0;  // commits that failed for lack of space, in all
  uint64_t records_unwritten = 0;  // given up by close()
  bool reserve_held = false;    // "<db>.reserve" is in place
  std::string last_error;
};

class StoreWriter {
 public:
  // Opens or creates the file, migrates its schema, starts the writer thread. Throws StoreError.
  explicit StoreWriter(const std::string& path, WriterOptions options = {});
  // close() with a 10 s timeout, unless it was called; prints what it could not write.
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Metadata: rare, synchronous (waits for the commit), rethrows a StoreError from the thread.
  records::SessionId open_session(const records::Session& s);
  void end_session(records::SessionId id, int64_t ended_ns);
  // The same as a record in the queue, not waited for: close() commits it before the data when
  // space is short.
  void queue_end_session(records::SessionId id, int64_t ended_ns);
  records::SourceId add_source(const records::Source& s);
  records::ChannelId add_channel(const records::Channel& c);
  records::SourceId open_source(const records::Source& s);    // find or create (resuming a session)
  records::ChannelId open_channel(const records::Channel& c);
  void add_clock_model(records::SourceId source, const records::ClockModel& m);

  // Data: asynchronous, never waits for the disk.
  void push(const records::Sample& s);
  void push(std::span<const records::Sample> samples);
  void push(records::Event e);
  void push(records::Scan s);
  void push(records::Capture c);

  // Returns when everything pushed before the call is committed.
  void flush();
  WriterStats stats() const;

  // Commits what was pushed and stops the thread. A commit that fails (disk full, file locked)
  // is retried until `timeout` has passed, then what is left is given up and counted, so a full
  // disk cannot hold a shutdown. When the disk is full, the reserve file is released and the
  // session's events, clock models and end are committed ahead of the samples and captures.
  // Later pushes are ignored; waiting calls throw StoreError. Once only; later calls return the
  // first report.
  CloseReport close(std::chrono::milliseconds timeout);

 private:
  struct Command {
    std::function<void(Inserter&)> fn;  // empty: a flush barrier
    std::promise<void> done;
  };
  struct ClockItem {
    records::SourceId source;
    records::ClockModel model;
  };
  using Item = std::variant<records::Event, records::Scan, records::Capture, ClockItem, std::shared_ptr<Command>>;

  void run_command(std::function<void(Inserter&)> fn);
  void queue_command(std::shared_ptr<Command> cmd);
  // The writer thread and its steps (writer.cpp), which share the thread's ThreadState.
  struct ThreadState;
  void thread_main();
  bool open_connection();
  void take_pending(ThreadState& st);          // waits for work, moves the queue in flight
  bool commit_in_flight(ThreadState& st);      // false: the commit failed
  void end_disk_full_episode(ThreadState& st);
  bool handle_failed_commit(ThreadState& st);  // false: close()'s deadline has passed
  void note_disk_full(ThreadState& st, std::chrono::steady_clock::time_point now);
  bool commit_essentials(ThreadState& st);
  void give_up_unwritten(ThreadState& st);
  // One transaction; false (nothing of it in the file) when it could not be committed.
  bool commit_batch(std::span<const records::Sample> samples, std::span<Item> items);
  bool is_disk_full_error(const StoreError& e) const;
  template <class T>
  bool push_item(T&& item);
  void create_reserve();
  void release_reserve();
  std::string reserve_path() const { return path_ + ".reserve"; }

  std::string path_;
  WriterOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<records::Sample> pending_samples_;
  std::vector<Item> pending_items_;
  std::chrono::steady_clock::time_point first_pending_at_{};
  bool urgent_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  bool closed_ = false;  // the thread is gone: pushes are ignored
  CloseReport close_report_;

  std::atomic<uint64_t> samples_pushed_{0};
  std::atomic<uint64_t> samples_committed_{0};
  std::atomic<uint64_t> records_pushed_{0};
  std::atomic<uint64_t> records_committed_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> failed_commits_{0};
  std::atomic<bool> disk_full_{false};
  std::atomic<uint64_t> disk_full_commits_{0};
  std::atomic<uint64_t> records_unwritten_{0};
  std::atomic<bool> reserve_held_{false};
  std::string last_error_;  // guarded by mu_
  bool last_failure_full_ = false;  // writer thread only

  // Owned and used by the writer thread only.
  std::unique_ptr<Db> db_;
  std::unique_ptr<Inserter> inserter_;

  std::promise<void> started_;
  std::thread thread_;
};

}  // namespace opsync::store
