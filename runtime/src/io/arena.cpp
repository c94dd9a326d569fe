//===- arena.cpp - the activation arena and its measurements --------------===//

#include "autochunk/runtime/arena.h"

#include <atomic>
#include <cstdlib>
#include <new>
#include <sys/resource.h>

struct ac_arena {
  void *base = nullptr;
  size_t size = 0;
  bool owned = false;
  std::atomic<size_t> highWater{0};
  std::atomic<size_t> live{0};
  std::atomic<size_t> peakLive{0};
};

namespace {

void raiseTo(std::atomic<size_t> &maximum, size_t value) {
  size_t seen = maximum.load(std::memory_order_relaxed);
  while (seen < value &&
         !maximum.compare_exchange_weak(seen, value, std::memory_order_relaxed))
    ;
}

bool rangeFits(const ac_arena *arena, size_t offset, size_t size) {
  return offset <= arena->size && size <= arena->size - offset;
}

} // namespace

extern "C" {

ac_status ac_arena_create(size_t bytes, size_t alignment, ac_arena **out) {
  if (!out)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "ac_arena_create: null out");
  *out = nullptr;
  if (alignment == 0)
    alignment = AC_ARENA_DEFAULT_ALIGNMENT;
  if ((alignment & (alignment - 1)) != 0)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "arena alignment %zu is not a power of two", alignment);
  if (alignment < AC_ARENA_DEFAULT_ALIGNMENT)
    alignment = AC_ARENA_DEFAULT_ALIGNMENT;
  if (bytes > SIZE_MAX - alignment)
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "arena of %zu bytes is too large", bytes);
  // aligned_alloc wants a non-zero multiple of the alignment. The contents
  // are left untouched so that pages the model never uses are never
  // resident.
  size_t allocation = (bytes + alignment) & ~(alignment - 1);
  void *base = std::aligned_alloc(alignment, allocation);
  if (!base)
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "cannot allocate an arena of %zu bytes", bytes);
  auto *arena = new (std::nothrow) ac_arena;
  if (!arena) {
    std::free(base);
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "cannot allocate an arena");
  }
  arena->base = base;
  arena->size = bytes;
  arena->owned = true;
  *out = arena;
  return AC_OK;
}

ac_status ac_arena_create_external(void *base, size_t bytes, ac_arena **out) {
  if (!out || (!base && bytes > 0))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_arena_create_external: null argument");
  *out = nullptr;
  auto *arena = new (std::nothrow) ac_arena;
  if (!arena)
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "cannot allocate an arena");
  arena->base = base;
  arena->size = bytes;
  *out = arena;
  return AC_OK;
}

void ac_arena_destroy(ac_arena *arena) {
  if (!arena)
    return;
  if (arena->owned)
    std::free(arena->base);
  delete arena;
}

void *ac_arena_base(const ac_arena *arena) {
  return arena ? arena->base : nullptr;
}

size_t ac_arena_size(const ac_arena *arena) { return arena ? arena->size : 0; }

ac_status ac_arena_mark_live(ac_arena *arena, size_t offset, size_t size) {
  if (!arena)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "ac_arena_mark_live: null");
  if (!rangeFits(arena, offset, size))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "arena range [%zu, %zu + %zu) exceeds the arena of "
                        "%zu bytes",
                        offset, offset, size, arena->size);
  raiseTo(arena->highWater, offset + size);
  size_t live = arena->live.fetch_add(size, std::memory_order_relaxed) + size;
  raiseTo(arena->peakLive, live);
  return AC_OK;
}

ac_status ac_arena_mark_dead(ac_arena *arena, size_t offset, size_t size) {
  if (!arena)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "ac_arena_mark_dead: null");
  if (!rangeFits(arena, offset, size))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "arena range [%zu, %zu + %zu) exceeds the arena of "
                        "%zu bytes",
                        offset, offset, size, arena->size);
  // Never wrap below zero, even when a caller pairs marks wrongly.
  size_t live = arena->live.load(std::memory_order_relaxed);
  while (!arena->live.compare_exchange_weak(
      live, live >= size ? live - size : 0, std::memory_order_relaxed))
    ;
  if (live < size)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "arena range [%zu, %zu + %zu) marked dead while only "
                        "%zu bytes are live",
                        offset, offset, size, live);
  return AC_OK;
}

size_t ac_arena_high_water_bytes(const ac_arena *arena) {
  return arena ? arena->highWater.load(std::memory_order_relaxed) : 0;
}

size_t ac_arena_peak_live_bytes(const ac_arena *arena) {
  return arena ? arena->peakLive.load(std::memory_order_relaxed) : 0;
}

void ac_arena_reset_measurements(ac_arena *arena) {
  if (!arena)
    return;
  arena->highWater.store(0, std::memory_order_relaxed);
  arena->live.store(0, std::memory_order_relaxed);
  arena->peakLive.store(0, std::memory_order_relaxed);
}

int64_t ac_peak_rss_bytes(void) {
  struct rusage usage;
  if (::getrusage(RUSAGE_SELF, &usage) != 0)
    return -1;
  // Linux reports ru_maxrss in kilobytes.
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

} // extern "C"
