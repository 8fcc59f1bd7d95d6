// Lock-free single-producer/single-consumer ring: the timer interrupt pushes captured edges, the
// main loop pops them. Each index is written by one side only (head by the producer, tail by
// the consumer); release stores publish the slot contents, acquire loads see them. Counters run
// free and wrap at 2^32; Capacity is a power of two so that (head - tail) stays exact across the
// wrap. 32-bit atomics are lock-free on Cortex-M3/M4 (LDR/STR with barriers).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace opsync::fw {

template <typename T, uint32_t Capacity>
class SpscRing {
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0, "Capacity must be a power of two");
  static_assert(std::atomic<uint32_t>::is_always_lock_free, "the ring needs lock-free 32-bit atomics");

 public:
  // Producer side. False, leaving the ring untouched, when it is full.
  bool push(const T& item) {
    const uint32_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) == Capacity) return false;
    slots_[head & (Capacity - 1)] = item;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer side. False when empty.
  bool pop(T* item) {
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (head_.load(std::memory_order_acquire) == tail) return false;
    *item = slots_[tail & (Capacity - 1)];
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Either side; exact from the consumer's view, a lower bound of the free space from the producer's.
  uint32_t size() const { return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire); }
  static constexpr uint32_t capacity() { return Capacity; }

 private:
  T slots_[Capacity] = {};
  std::atomic<uint32_t> head_{0};  // next slot to write; producer only
  std::atomic<uint32_t> tail_{0};  // next slot to read; consumer only
};

}  // namespace opsync::fw
