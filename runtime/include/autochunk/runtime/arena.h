/*===- arena.h - the activation arena of the AutoChunk runtime -----*- C -*-===*
 *
 * Every intermediate buffer of a compiled model is an offset into one arena
 * whose size the memory planner fixed at compile time. The executable marks
 * each buffer when it starts being used (and when it dies), so that the arena
 * can report what was measured next to what was planned:
 *   high water mark  the highest byte any marked buffer reached, which is the
 *                    report's measured_activation_bytes;
 *   peak live bytes  the largest total of buffers marked live at once.
 * Marks are thread-safe (atomics) and cost a few instructions.
 *
 *===----------------------------------------------------------------------===*/

#ifndef AUTOCHUNK_RUNTIME_ARENA_H
#define AUTOCHUNK_RUNTIME_ARENA_H

#include "autochunk/runtime/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The alignment of an arena's base when the caller asks for 0. */
#define AC_ARENA_DEFAULT_ALIGNMENT 64

typedef struct ac_arena ac_arena;

/* Allocates an arena of `bytes` bytes (zero-filled) whose base is aligned to
 * `alignment` (a power of two; 0 means AC_ARENA_DEFAULT_ALIGNMENT). */
ac_status ac_arena_create(size_t bytes, size_t alignment, ac_arena **out);

/* An arena over memory the caller owns (e.g. a device allocation): only the
 * accounting is done here, the memory is never freed by the arena. */
ac_status ac_arena_create_external(void *base, size_t bytes, ac_arena **out);

void ac_arena_destroy(ac_arena *arena);

void *ac_arena_base(const ac_arena *arena);
size_t ac_arena_size(const ac_arena *arena);

/* Records that [offset, offset + size) is in use from now on: raises the high
 * water mark and adds `size` to the live bytes. AC_ERROR_INVALID_ARGUMENT
 * when the range does not fit the arena (nothing is recorded then). */
ac_status ac_arena_mark_live(ac_arena *arena, size_t offset, size_t size);

/* Records that a range marked live is dead (subtracts `size` from the live
 * bytes). Each mark_live is paired with at most one mark_dead. */
ac_status ac_arena_mark_dead(ac_arena *arena, size_t offset, size_t size);

/* The highest byte (offset + size) any marked range reached. */
size_t ac_arena_high_water_bytes(const ac_arena *arena);

/* The largest total of live bytes seen at once. */
size_t ac_arena_peak_live_bytes(const ac_arena *arena);

/* Forgets what was measured (e.g. after a warm-up run). */
void ac_arena_reset_measurements(ac_arena *arena);

/* The peak resident set size of this process in bytes (getrusage), or -1
 * when the system does not tell. */
int64_t ac_peak_rss_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_ARENA_H */
